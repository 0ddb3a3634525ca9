import Foundation
import Logging
import OpenAIWire
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A swift-log handler writing one JSON object per line to standard error:
/// `{"timestamp":"…","level":"info","logger":"…","message":"…", …metadata}`, for
/// `litellm_settings.json_logs: true` / `JSON_LOGS=True`.
///
/// ```swift
/// LoggingSystem.bootstrap { JSONLogHandler(label: $0) }
/// ```
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    public let label: String

    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var members: [JSONMember] = [
            JSONMember("timestamp", .string(Date().ISO8601Format())),
            JSONMember("level", .string(event.level.rawValue)),
            JSONMember("logger", .string(label)),
            JSONMember("message", .string(event.message.description)),
        ]
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { $1 } }
        for key in all.keys.sorted() { members.append(JSONMember(key, Self.json(all[key]!))) }
        var line = JSONValue.object(members).jsonText
        line += "\n"
        Self.write(line)
    }

    static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let s): return .string(s)
        case .stringConvertible(let c):
            if let i = c as? Int { return .int(i) }
            if let d = c as? Double { return .double(d) }
            if let b = c as? Bool { return .bool(b) }
            return .string(c.description)
        case .array(let a): return .array(a.map(json))
        case .dictionary(let d): return .object(d.keys.sorted().map { JSONMember($0, json(d[$0]!)) })
        }
    }

    private static func write(_ line: String) {
        var line = line
        line.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = systemWrite(2, bytes.baseAddress! + offset, bytes.count - offset)
                if n <= 0 { break }
                offset += n
            }
        }
    }
}

/// Whether log lines are JSON: decided before the config is read (`JSON_LOGS`), then by the
/// config (`json_logs`). Handlers made by ``SwitchableLogHandler`` check it on every line.
public enum LogFormat {
    private static let json = Atomic<Bool>(false)

    public static var isJSON: Bool {
        get { json.load(ordering: .relaxed) }
        set { json.store(newValue, ordering: .relaxed) }
    }
}

/// The process's log handler: plain text on standard error, or JSON once ``LogFormat/isJSON``.
public struct SwitchableLogHandler: LogHandler {
    private var text: StreamLogHandler
    private var jsonHandler: JSONLogHandler

    public init(label: String, level: Logger.Level) {
        text = StreamLogHandler.standardError(label: label)
        jsonHandler = JSONLogHandler(label: label)
        text.logLevel = level
        jsonHandler.logLevel = level
    }

    public var logLevel: Logger.Level {
        get { text.logLevel }
        set { text.logLevel = newValue; jsonHandler.logLevel = newValue }
    }

    public var metadata: Logger.Metadata {
        get { text.metadata }
        set { text.metadata = newValue; jsonHandler.metadata = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { text[metadataKey: key] }
        set { text[metadataKey: key] = newValue; jsonHandler[metadataKey: key] = newValue }
    }

    public func log(event: LogEvent) {
        if LogFormat.isJSON { jsonHandler.log(event: event) } else { text.log(event: event) }
    }
}

/// `write(2)`, callable where Foundation's names could shadow it.
private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, bytes, count)
}
