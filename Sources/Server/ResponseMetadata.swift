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
