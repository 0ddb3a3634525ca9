import CallModel
import Foundation
import NIOCore
import OpenAIWire

/// LiteLLM's `generic_api` callback: each finished call as a StandardLoggingPayload object, sent
/// in JSON arrays to `GENERIC_LOGGER_ENDPOINT` with `GENERIC_LOGGER_HEADERS` (`k=v,k2=v2`).
/// The record is queued as it is (``CallbackQueues``); it is turned into JSON, and POSTed, on
/// the sender's task.
public enum GenericAPICallback {

    /// A batch → a JSON array of StandardLoggingPayload objects, written straight into one
    /// buffer reserved for the batch; each deployment's values are escaped once, here.
    static func encoder(directory: DeploymentDirectory) -> BatchingSender<QueuedCall>.EncodeInto {
        let payloads = StandardLoggingPayloads(directory: directory)
        return { calls, out in
            out.clear()
            out.reserveCapacity(2 + calls.count * 2048)
            out.writeInteger(UInt8(ascii: "["))
            for i in calls.indices {
                if i > 0 { out.writeInteger(UInt8(ascii: ",")) }
                payloads.write(calls[i], to: &out)
            }
            out.writeInteger(UInt8(ascii: "]"))
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
