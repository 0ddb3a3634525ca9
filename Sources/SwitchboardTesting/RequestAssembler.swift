import NIOCore
import NIOHTTP1

/// Collects one HTTP request's parts (head, body pieces, end) into a ``RecordedRequest``, for the
/// fake servers' channel handlers.
struct RequestAssembler {
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()

    /// Feeds one part; the whole request once its end arrives, else `nil`.
    mutating func feed(_ part: HTTPServerRequestPart) -> RecordedRequest? {
        switch part {
        case .head(let h):
            head = h
            body.clear()
        case .body(var b):
            body.writeBuffer(&b)
        case .end:
            guard let head else { return nil }
            return RecordedRequest(
                method: head.method.rawValue, uri: head.uri,
                headers: head.headers.map { ($0.name, $0.value) }, body: String(buffer: body),
                bytes: Array(body.readableBytesView))
        }
        return nil
    }
}
