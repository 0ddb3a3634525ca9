import NIOCore
import NIOHTTP1

/// One HTTP answer's head and body as its parts arrive, the body bounded: what both HTTP
/// clients (``HTTPFetcher``'s one-shot connections and ``HTTPKeepAliveClient``'s kept ones)
/// gather before they answer.
struct AnswerGathering {
    let limit: Int
    let origin: String
    private(set) var head: HTTPResponseHead?
    private var body = ByteBuffer()

    enum Step {
        case more
        /// The answer's end arrived.
        case ended
        /// The body outgrew ``limit``: the connection must be closed.
        case tooLarge(HTTPFetchError)
    }

    init(limit: Int, origin: String) {
        self.limit = limit
        self.origin = origin
    }

    /// Forgets the previous answer (a kept-alive connection's next one).
    mutating func reset() {
        head = nil
        body.clear()
    }

    mutating func add(_ part: HTTPClientResponsePart) -> Step {
        switch part {
        case .head(let h):
            head = h
            return .more
        case .body(var bytes):
            guard body.readableBytes + bytes.readableBytes <= limit else {
                return .tooLarge(HTTPFetchError("\(origin): answer larger than \(limit) bytes"))
            }
            body.writeBuffer(&bytes)
            return .more
        case .end:
            return .ended
        }
    }

    /// The answer gathered so far; `nil` before its head.
    var response: HTTPFetchResponse? {
        head.map { HTTPFetchResponse(status: Int($0.status.code), headers: $0.headers.map { ($0.name, $0.value) }, body: body) }
    }
}
