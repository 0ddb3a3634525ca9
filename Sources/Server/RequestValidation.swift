import NIOCore
import OpenAIWire
import Providers

/// Checks the fields each endpoint requires before anything is routed.
enum RequestValidation {
    static func check(_ endpoint: Endpoint, _ scan: JSONObjectScan, _ body: ByteBuffer) throws(OpenAIError) {
        switch endpoint {
        case .chatCompletions:
            guard let i = scan.index(of: "messages", in: body) else {
                throw .badRequest("Missing required parameter: 'messages'.", param: "messages")
            }
            // Checked from the bytes only: the messages themselves are the upstream's to judge.
            guard scan.members[i].valueLead == UInt8(ascii: "["), !isEmptyList(scan.members[i], body) else {
                throw .badRequest("'messages' must be a non-empty list of messages.", param: "messages")
            }
        case .completions:
            guard scan.index(of: "prompt", in: body) != nil else {
                throw .badRequest("Missing required parameter: 'prompt'.", param: "prompt")
            }
        case .embeddings:
            guard let i = scan.index(of: "input", in: body) else {
                throw .badRequest("Missing required parameter: 'input'.", param: "input")
            }
            switch scan.members[i].valueLead {
            case UInt8(ascii: "\""), UInt8(ascii: "["): break
            default: throw .badRequest("'input' must be a string or a list.", param: "input")
            }
        }
        if let i = scan.index(of: "stream", in: body) {
            let lead = scan.members[i].valueLead
            guard lead == UInt8(ascii: "t") || lead == UInt8(ascii: "f") || lead == UInt8(ascii: "n") else {
                throw .badRequest("'stream' must be a boolean.", param: "stream")
            }
        }
    }

    /// Whether the list value of `member` is `[]`.
    static func isEmptyList(_ member: JSONMemberSpan, _ body: ByteBuffer) -> Bool {
        body.withUnsafeReadableBytes { bytes in
            var i = member.valueStart + 1
            while i < member.valueEnd, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
            return i < member.valueEnd && bytes[i] == UInt8(ascii: "]")
        }
    }
}
