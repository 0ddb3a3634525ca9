import NIOCore
import NIOHTTP1
import NIOPosix
import OpenAIWire
import Synchronization

/// A request as a fake upstream received it.
public struct RecordedRequest: Sendable {
    public var method: String
    public var uri: String
    public var headers: [(name: String, value: String)]
    /// The body as UTF-8 text.
    public var body: String
    /// The body's bytes (binary bodies: protobuf).
    public var bytes: [UInt8]

    public init(method: String, uri: String, headers: [(name: String, value: String)], body: String, bytes: [UInt8]) {
        self.method = method
        self.uri = uri
        self.headers = headers
        self.body = body
        self.bytes = bytes
    }

    /// The first header named `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first(where: { $0.name.lowercased() == name.lowercased() })?.value
    }

    /// The body parsed as JSON.
    public var json: JSONValue? { try? JSONValue.parse(body) }
}

/// What a fake upstream answers.
public enum FakeResponse: Sendable {
    /// A complete answer.
    case json(status: Int, body: String, headers: [(String, String)] = [])
    /// A complete answer of any content type (XML, YAML, plain text; empty for a 304).
    case body(status: Int, contentType: String, body: String, headers: [(String, String)] = [])
    /// Server-sent events, each written and flushed separately, `delay` apart.
    case sse(events: [String], delay: TimeAmount = .zero)
    /// A 200 answer of `contentType` whose body is written in these pieces (chunked encoding),
    /// each flushed separately, `delay` apart (NDJSON lines, pieces cut anywhere, ...).
    case chunked(contentType: String, pieces: [String], delay: TimeAmount = .zero)
    /// Never answers (for timeouts and client-disconnect tests).
    case hang
    /// Closes the connection without answering.
    case close
    /// Exactly these bytes (a head, part of one, anything); the connection then stays open
    /// unless `close`.
    case raw(String, close: Bool)
}

/// An upstream that speaks OpenAI's HTTP API on a loopback port: real sockets, real HTTP/1.1,
/// real JSON and SSE framing. Records every request; answers with `responder` (default:
/// ``FakeOpenAIServer/standardResponse(_:)``).
public final class FakeOpenAIServer: Sendable {
    public let port: Int
    private let channel: any Channel
    private let recorded = Mutex<[RecordedRequest]>([])
    private let active = Mutex<Int>(0)
    private let accepted = Mutex<Int>(0)
    private let responder: @Sendable (RecordedRequest) -> FakeResponse

    /// Starts listening on 127.0.0.1 on a free port.
    public init(
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        responder: @escaping @Sendable (RecordedRequest) -> FakeResponse = FakeOpenAIServer.standardResponse
    ) async throws {
        self.responder = responder
        let box = Mutex<FakeOpenAIServer?>(nil)
        let channel = try await LoopbackHTTPServer.bind(group: group) { FakeHandler(server: { box.withLock { $0 } }) }
        self.channel = channel
        self.port = channel.localAddress!.port!
        box.withLock { $0 = self }
    }

    /// `http://127.0.0.1:PORT/v1`
    public var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    /// Every request received so far.
    public var requests: [RecordedRequest] { recorded.withLock { $0 } }

    /// Connections currently open.
    public var openConnections: Int { active.withLock { $0 } }

    /// Connections accepted since start.
    public var acceptedConnections: Int { accepted.withLock { $0 } }

    public func shutdown() async {
        try? await channel.close()
    }

    func record(_ request: RecordedRequest) -> FakeResponse {
        recorded.withLock { $0.append(request) }
        return responder(request)
    }

    func connectionOpened() {
        active.withLock { $0 += 1 }
        accepted.withLock { $0 += 1 }
    }
    func connectionClosed() { active.withLock { $0 -= 1 } }

    // MARK: Standard answers

    /// Answers like OpenAI: chat completions (JSON or SSE when `stream` is true, usage chunk
    /// when `stream_options.include_usage`), text completions and embeddings, echoing the model.
    public static func standardResponse(_ request: RecordedRequest) -> FakeResponse {
        let json = request.json
        let model = json?["model"]?.stringValue ?? "unknown"
        if request.uri.hasSuffix("/embeddings") {
            let count = json?["input"]?.arrayValue?.count ?? 1
            let data = (0..<count).map { #"{"object":"embedding","index":\#($0),"embedding":[0.1,0.2,0.3]}"# }
            return .json(status: 200, body: #"{"object":"list","data":[\#(data.joined(separator: ","))],"model":"\#(model)","usage":{"prompt_tokens":5,"total_tokens":5}}"#)
        }
        if request.uri.hasSuffix("/completions") && !request.uri.hasSuffix("/chat/completions") {
            return .json(status: 200, body: #"{"id":"cmpl-fake","object":"text_completion","created":1700000000,"model":"\#(model)","choices":[{"index":0,"text":"fake completion","logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}"#)
        }
        if json?["stream"]?.boolValue == true {
            let includeUsage = json?["stream_options"]?["include_usage"]?.boolValue ?? false
            return .sse(events: streamEvents(model: model, words: ["Hello", " from", " fake", " upstream"], includeUsage: includeUsage))
        }
        return .json(status: 200, body: chatCompletion(model: model, content: "Hello from fake upstream"))
    }

    /// A `chat.completion` body.
    public static func chatCompletion(model: String, content: String) -> String {
        #"{"id":"chatcmpl-fake","object":"chat.completion","created":1700000000,"model":"\#(model)","choices":[{"index":0,"message":{"role":"assistant","content":"\#(content)"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13}}"#
    }

    /// `data: {chunk}\n\n` events ending with `data: [DONE]\n\n`, as OpenAI streams them.
    public static func streamEvents(model: String, words: [String], includeUsage: Bool) -> [String] {
        func chunk(_ choices: String, usage: String = "") -> String {
            "data: " + #"{"id":"chatcmpl-fake","object":"chat.completion.chunk","created":1700000000,"model":"\#(model)","choices":\#(choices)\#(usage)}"# + "\n\n"
        }
        var events = [chunk(#"[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]"#)]
        for w in words {
            events.append(chunk(#"[{"index":0,"delta":{"content":"\#(w)"},"finish_reason":null}]"#))
        }
        events.append(chunk(#"[{"index":0,"delta":{},"finish_reason":"stop"}]"#))
        if includeUsage {
            events.append(chunk("[]", usage: #","usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13}"#))
        }
        events.append("data: [DONE]\n\n")
        return events
    }
}

/// One fake-upstream connection.
final class FakeHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let server: () -> FakeOpenAIServer?
    var assembler = RequestAssembler()

    init(server: @escaping () -> FakeOpenAIServer?) { self.server = server }

    func channelActive(context: ChannelHandlerContext) {
        server()?.connectionOpened()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        server()?.connectionClosed()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let request = assembler.feed(unwrapInboundIn(data)), let server = server() else { return }
        respond(context, server.record(request))
    }

    func respond(_ context: ChannelHandlerContext, _ response: FakeResponse) {
        switch response {
        case .hang:
            return
        case .close:
            context.close(promise: nil)
        case .raw(let text, let close):
            // Below the HTTP encoder: the bytes go out exactly as given.
            let bytes = ByteBuffer(string: text)
            let channel = context.channel
            guard let encoder = try? channel.pipeline.syncOperations.context(handlerType: HTTPResponseEncoder.self) else { return }
            encoder.writeAndFlush(NIOAny(bytes)).whenComplete { _ in if close { channel.close(promise: nil) } }
        case .json(let status, let text, let extra):
            respond(context, .body(status: status, contentType: "application/json", body: text, headers: extra))
        case .body(let status, let contentType, let text, let extra):
            var h = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status))
            h.headers.add(name: "content-type", value: contentType)
            h.headers.add(name: "content-length", value: String(text.utf8.count))
            for (n, v) in extra { h.headers.add(name: n, value: v) }
            context.write(wrapOutboundOut(.head(h)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        case .sse(let events, let delay):
            respond(context, .chunked(contentType: "text/event-stream", pieces: events, delay: delay))
        case .chunked(let contentType, let pieces, let delay):
            var h = HTTPResponseHead(version: .http1_1, status: .ok)
            h.headers.add(name: "content-type", value: contentType)
            h.headers.add(name: "transfer-encoding", value: "chunked")
            context.writeAndFlush(wrapOutboundOut(.head(h)), promise: nil)
            writeEvents(context, pieces[...], delay: delay)
        }
    }

    func writeEvents(_ context: ChannelHandlerContext, _ events: ArraySlice<String>, delay: TimeAmount) {
        guard let first = events.first else {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            return
        }
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: first)))), promise: nil)
        let rest = events.dropFirst()
        if delay == .zero {
            writeEvents(context, rest, delay: delay)
        } else {
            context.eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in
                guard context.channel.isActive else { return }
                writeEvents(context, rest, delay: delay)
            }
        }
    }
}
