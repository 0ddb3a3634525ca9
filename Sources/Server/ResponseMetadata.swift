import CallModel
import NIOCore

/// The `x-litellm-*` headers of a model call's answer, written straight into the response head.
struct ResponseMetadata {
    var callID: String
    var modelID: String?
    var group: String?
    var apiBase: String?
    var totalNanoseconds: UInt64
    var overheadNanoseconds: UInt64
    var attemptedRetries: Int
    var attemptedFallbacks: Int
    /// The upstream's rate-limit headers, passed on as LiteLLM does.
    var rateLimit: RateLimitHeaders?

    func write(to out: inout ByteBuffer) {
        out.writeStaticString("x-litellm-call-id: ")
        out.writeString(callID)
        if let modelID {
            out.writeStaticString("\r\nx-litellm-model-id: ")
            out.writeString(modelID)
        }
        if let group {
            out.writeStaticString("\r\nx-litellm-model-group: ")
            out.writeString(group)
        }
        if let apiBase {
            out.writeStaticString("\r\nx-litellm-model-api-base: ")
            out.writeString(apiBase)
        }
        out.writeStaticString("\r\nx-litellm-response-duration-ms: ")
        Milliseconds.write(totalNanoseconds, to: &out)
        out.writeStaticString("\r\nx-litellm-overhead-duration-ms: ")
        Milliseconds.write(overheadNanoseconds, to: &out)
        out.writeStaticString("\r\nx-litellm-attempted-retries: ")
        out.writeString(String(attemptedRetries))
        out.writeStaticString("\r\nx-litellm-attempted-fallbacks: ")
        out.writeString(String(attemptedFallbacks))
        out.writeStaticString("\r\n")
        if let r = rateLimit, !r.isEmpty {
            Self.header(&out, "x-ratelimit-limit-requests: ", r.limitRequests)
            Self.header(&out, "x-ratelimit-limit-tokens: ", r.limitTokens)
            Self.header(&out, "x-ratelimit-remaining-requests: ", r.remainingRequests)
            Self.header(&out, "x-ratelimit-remaining-tokens: ", r.remainingTokens)
        }
    }

    private static func header(_ out: inout ByteBuffer, _ name: StaticString, _ value: Int?) {
        guard let value else { return }
        out.writeStaticString(name)
        out.writeString(String(value))
        out.writeStaticString("\r\n")
    }
}

/// Formats nanoseconds as milliseconds with three decimals, without Foundation.
enum Milliseconds {
    static func write(_ ns: UInt64, to out: inout ByteBuffer) {
        let us = ns / 1000
        out.writeString(String(us / 1000))
        out.writeInteger(UInt8(ascii: "."))
        let frac = us % 1000
        out.writeInteger(UInt8(ascii: "0") + UInt8(frac / 100))
        out.writeInteger(UInt8(ascii: "0") + UInt8(frac / 10 % 10))
        out.writeInteger(UInt8(ascii: "0") + UInt8(frac % 10))
    }
}

extension NIODeadline {
    /// Seconds since the Unix epoch.
    static var wallClockSeconds: Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
