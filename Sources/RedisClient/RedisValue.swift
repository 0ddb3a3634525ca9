/// One Redis reply, decoded from hiredis's reply object.
public enum RedisValue: Sendable, Equatable {
    /// A bulk string (binary-safe; decoded as UTF-8).
    case string(String)
    /// A simple status such as `OK`.
    case status(String)
    case integer(Int)
    case array([RedisValue])
    /// A nil bulk string or array.
    case null
    /// An error reply (`NOSCRIPT ...`, `WRONGPASS ...`).
    case error(String)

    /// The value as an integer (integers, and strings that hold one).
    public var int: Int? {
        switch self {
        case .integer(let n): return n
        case .string(let s), .status(let s): return Int(s)
        default: return nil
        }
    }

    /// The value as a double (integers, and strings that hold a number).
    public var double: Double? {
        switch self {
        case .integer(let n): return Double(n)
        case .string(let s), .status(let s): return Double(s)
        default: return nil
        }
    }

    /// The value as text (strings and statuses).
    public var text: String? {
        switch self {
        case .string(let s), .status(let s): return s
        default: return nil
        }
    }

    /// The elements of an array reply (empty for anything else).
    public var elements: [RedisValue] {
        if case .array(let a) = self { return a }
        return []
    }
}

/// Why a Redis call did not give a reply.
public enum RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No answer within the call's deadline.
    case timeout
    /// Not connected (down, reconnecting after a backoff, or the circuit breaker is open).
    case unavailable(String)
    /// The connection closed before the reply came.
    case connectionClosed
    /// The bytes from the server could not be read as RESP.
    case protocolError(String)
    /// A call's keys hash to several Redis Cluster slots (not sent: the cluster would refuse
    /// it with `CROSSSLOT`).
    case crossSlot([String])

    public var description: String {
        switch self {
        case .timeout: return "no answer within the deadline"
        case .unavailable(let why): return "unavailable (\(why))"
        case .connectionClosed: return "connection closed"
        case .protocolError(let m): return "protocol error: \(m)"
        case .crossSlot(let keys): return "keys in several cluster slots: \(keys.joined(separator: " "))"
        }
    }
}
