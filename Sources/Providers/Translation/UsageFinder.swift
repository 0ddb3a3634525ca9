import CallModel
import NIOCore
import OpenAIWire

/// Finds OpenAI's `usage` object in an answer without decoding the answer: a raw `"usage"`
/// followed by `:` can only be a key (quotes inside JSON strings are escaped), so the bytes
/// are searched and only the usage object itself is read.
public enum UsageFinder {
    /// The usage of a complete JSON answer (searched from the end, where OpenAI puts it).
    public static func usage(inAnswer body: ByteBuffer) -> TokenUsage? {
        body.withUnsafeReadableBytes { b in
            guard let at = lastIndex(of: usageKey, in: b), let object = objectAfterKey(b, at + usageKey.count) else { return nil }
            return readUsage(b, from: object)
        }
    }

    /// The usage in one SSE event (`data: {...}`), and whether the event is the extra usage-only
    /// chunk (`"choices": []`) that `stream_options.include_usage` adds at the end.
    public static func usage(inEvent event: ByteBuffer) -> (usage: TokenUsage, usageOnly: Bool)? {
        event.withUnsafeReadableBytes { b in
            guard let at = find(usageKey, in: b), let object = objectAfterKey(b, at + usageKey.count),
                  let usage = readUsage(b, from: object) else { return nil }
            var usageOnly = false
            if let c = find(choicesKey, in: b) {
                var i = FastSkip.space(b, c + choicesKey.count)
                if i < b.count, b[i] == UInt8(ascii: ":") {
                    i = FastSkip.space(b, i + 1)
                    if i < b.count, b[i] == UInt8(ascii: "[") {
                        i = FastSkip.space(b, i + 1)
                        usageOnly = i < b.count && b[i] == UInt8(ascii: "]")
                    }
                }
            }
            return (usage, usageOnly)
        }
    }

    static let usageKey = Array(#""usage""#.utf8)
    static let choicesKey = Array(#""choices""#.utf8)
    static let promptKey = Array("prompt_tokens".utf8)
    static let completionKey = Array("completion_tokens".utf8)
    static let totalKey = Array("total_tokens".utf8)

    /// The index of `{` when `:` and an object follow the key ending at `i`.
    static func objectAfterKey(_ b: UnsafeRawBufferPointer, _ i: Int) -> Int? {
        var i = FastSkip.space(b, i)
        guard i < b.count, b[i] == UInt8(ascii: ":") else { return nil }
        i = FastSkip.space(b, i + 1)
        return i < b.count && b[i] == UInt8(ascii: "{") ? i : nil
    }

    /// Reads `prompt_tokens`, `completion_tokens` (or `total_tokens − prompt_tokens`) from the
    /// members at depth one of the object starting at `start`.
    static func readUsage(_ b: UnsafeRawBufferPointer, from start: Int) -> TokenUsage? {
        var prompt: Int?
        var completion: Int?
        var total: Int?
        var depth = 0
        var i = start
        while i < b.count {
            let c = b[i]
            switch c {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                i += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                i += 1
                if depth == 0 {
                    guard let prompt else { return nil }
                    let done = completion ?? total.map { max(0, $0 - prompt) } ?? 0
                    return TokenUsage(promptTokens: prompt, completionTokens: done)
                }
            case UInt8(ascii: "\""):
                let keyStart = i + 1
                i = keyStart
                while i < b.count, b[i] != UInt8(ascii: "\"") { i += b[i] == UInt8(ascii: "\\") ? 2 : 1 }
                let keyEnd = i
                i += 1
                guard depth == 1 else { continue }
                let key = UnsafeRawBufferPointer(rebasing: b[keyStart..<min(keyEnd, b.count)])
                var j = FastSkip.space(b, i)
                guard j < b.count, b[j] == UInt8(ascii: ":") else { continue }
                j = FastSkip.space(b, j + 1)
                var value = 0
                var digits = 0
                while j < b.count, (0x30...0x39).contains(b[j]), digits < 18 {
                    value = value * 10 + Int(b[j] - 0x30)
                    digits += 1
                    j += 1
                }
                if digits > 0 {
                    if key.elementsEqual(promptKey) { prompt = value }
                    else if key.elementsEqual(completionKey) { completion = value }
                    else if key.elementsEqual(totalKey) { total = value }
                }
                i = j
            default:
                i += 1
            }
        }
        return nil
    }

    /// The first `needle` in `b` (``FastSkip/find(_:in:)``, eight positions at a time).
    static func find(_ needle: [UInt8], in b: UnsafeRawBufferPointer) -> Int? {
        needle.withUnsafeBytes { FastSkip.find($0, in: b) }
    }

    static func lastIndex(of needle: [UInt8], in b: UnsafeRawBufferPointer) -> Int? {
        guard b.count >= needle.count else { return nil }
        var i = b.count - needle.count
        while i >= 0 {
            if b[i] == needle[0] && b[i + 1] == needle[1] && memcmp(b.baseAddress! + i, needle, needle.count) == 0 { return i }
            i -= 1
        }
        return nil
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
