import CallModel
import NIOCore
import OpenAIWire
import Providers
import SwitchboardConfig
import XCTest

/// Builders shared by the provider tests.
enum ProviderTest {
    static func deployment(
        _ model: String, base: String? = nil, key: String? = nil, version: String? = nil, adToken: String? = nil,
        defaults: [JSONMember] = [], template: PromptTemplate? = nil, extraHeaders: [(name: String, value: String)] = []
    ) -> Deployment {
        var p = LitellmParams(model: model)
        p.apiBase = base
        p.apiKey = key
        p.apiVersion = version
        p.azureAdToken = adToken
        p.requestDefaults = defaults
        p.promptTemplate = template
        p.extraHeaders = extraHeaders
        return Deployment(modelName: "g", params: p, modelInfo: ModelInfo(id: "id"))
    }

    static func call(_ body: String, endpoint: Endpoint = .chatCompletions, drop: Bool = false) throws -> ProviderCall {
        let buffer = ByteBuffer(string: body)
        let scan = try JSONScanner.scanObject(buffer)
        let stream = scan.bool("stream", in: buffer) ?? false
        return ProviderCall(endpoint: endpoint, body: buffer, scan: scan, stream: stream, dropParams: drop)
    }

    /// Feeds `wire` to `translator` cut at `cuts`; returns each emitted piece.
    static func feed(_ translator: any ResponseTranslator, _ wire: String, cuts: [Int]) throws -> [String] {
        let bytes = Array(wire.utf8)
        var pieces: [String] = []
        var start = 0
        for cut in cuts + [bytes.count] where cut >= start {
            try translator.stream(ByteBuffer(bytes: bytes[start..<cut])) { pieces.append(String(buffer: $0)) }
            start = cut
        }
        try translator.streamEnd { pieces.append(String(buffer: $0)) }
        return pieces
    }

    /// The `data: {...}` events of an OpenAI stream, parsed (`[DONE]` as nil).
    static func events(_ text: String) throws -> [JSONValue?] {
        try text.components(separatedBy: "\n\n").filter { !$0.isEmpty }.map { event in
            XCTAssertTrue(event.hasPrefix("data: "), event)
            let payload = String(event.dropFirst(6))
            return payload == "[DONE]" ? nil : try JSONValue.parse(payload)
        }
    }

    /// The concatenated `delta.content` (chat) or `text` of an OpenAI stream.
    static func streamedText(_ text: String) throws -> String {
        try events(text).compactMap { $0 }.compactMap { event -> String? in
            let choice = event["choices"]?.arrayValue?.first
            return choice?["delta"]?["content"]?.stringValue ?? choice?["text"]?.stringValue
        }.joined()
    }

    static func json(_ buffer: ByteBuffer) throws -> JSONValue { try JSONValue.parse(String(buffer: buffer)) }
}
