import Logging
import NIOCore
import NIOHTTP1

/// `--detailed_debug` request and response logs, with credentials redacted.
enum DebugLog {
    static let secretHeaders: Set<String> = ["authorization", "api-key", "x-api-key", "x-litellm-api-key", "proxy-authorization", "cookie"]

    static func request(_ logger: Logger, _ head: HTTPRequestHead, _ body: ByteBuffer) {
        logger.debug("request \(head.method) \(head.uri) headers=\(redacted(head.headers)) body=\(preview(body))")
    }

    static func response(_ logger: Logger, _ status: HTTPResponseStatus, _ head: ByteBuffer, _ body: ByteBuffer) {
        let headers = String(buffer: head).split(separator: "\r\n").dropFirst().joined(separator: ", ")
        logger.debug("response \(status.code) headers=\(headers) body=\(preview(body))")
    }

    static func redacted(_ headers: HTTPHeaders) -> String {
        headers.map { name, value in
            secretHeaders.contains(name.lowercased()) ? "\(name): <redacted>" : "\(name): \(value)"
        }.joined(separator: ", ")
    }

    static func preview(_ body: ByteBuffer) -> String {
        let text = String(buffer: body)
        return text.utf8.count > 2000 ? String(text.prefix(2000)) + "…(\(body.readableBytes) bytes)" : text
    }
}
