import CallModel
import Foundation
import NIOCore
import OpenAIWire

/// LiteLLM's `generic_api` callback: each finished call as a StandardLoggingPayload object, sent
/// in JSON arrays to `GENERIC_LOGGER_ENDPOINT` with `GENERIC_LOGGER_HEADERS` (`k=v,k2=v2`).
/// A call is written into its event loop's open batch at the end of the tick it ended in
/// (``CallLogLane``); the sender only sends.
public enum GenericAPICallback {

    /// A JSON array of StandardLoggingPayload objects; each deployment's values are escaped
    /// once, here.
    static func format(directory: DeploymentDirectory) -> any CallBatchFormat {
        Payloads(payloads: StandardLoggingPayloads(directory: directory))
    }

    final class Payloads: CallBatchFormat {
        let payloads: StandardLoggingPayloads
        init(payloads: StandardLoggingPayloads) { self.payloads = payloads }
        var bytesPerCall: Int { 2048 }
        var separator: UInt8? { UInt8(ascii: ",") }
        var room: Int { 1 }

        func write(_ call: LoggedCall, first: Bool, to body: inout ByteBuffer) {
            if !first { body.writeInteger(UInt8(ascii: ",")) }
            payloads.write(call, to: &body)
        }

        /// `[` in the room in front, `]` after.
        func close(_ body: inout ByteBuffer) {
            body.moveReaderIndex(to: body.readerIndex - 1)
            body.setInteger(UInt8(ascii: "["), at: body.readerIndex)
            body.writeInteger(UInt8(ascii: "]"))
        }
    }

    /// `k=v,k2=v2` → header pairs.
    public static func headers(_ text: String?) -> [(String, String)] {
        (text ?? "").split(separator: ",").compactMap { pair in
            guard let eq = pair.firstIndex(of: "=") else { return nil }
            let name = pair[..<eq].trimmingCharacters(in: .whitespaces)
            let value = pair[pair.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            return name.isEmpty ? nil : (name, value)
        }
    }
}
