import ArgumentParser
import Foundation
import Tokenizers

/// Which tokenizer a tokenizer command loads: a Hugging Face `tokenizer.json`, or a tiktoken
/// rank file with its encoding's pre-tokenizer.
struct TokenizerChoice: ParsableArguments {
    @Option(name: .customLong("tokenizer-json"), help: "A Hugging Face tokenizer.json.")
    var tokenizerJSON: String?

    @Option(help: "A tiktoken rank file (base64 token and rank per line).")
    var tiktoken: String?

    @Option(help: "The rank file's pre-tokenizer: o200k_base, cl100k_base, p50k_base, r50k_base, or a pattern string.")
    var encoding = "cl100k_base"

    func load() throws -> any TokenCounting {
        if let path = tokenizerJSON {
            return try HuggingFaceTokenizer(json: Data(contentsOf: URL(fileURLWithPath: path)), source: path)
        }
        guard let path = tiktoken else { throw ValidationError("give --tokenizer-json or --tiktoken") }
        guard let pattern = OpenAIEncodingName(rawValue: encoding)?.pattern ?? PreTokenizerPattern.recognise(encoding) else {
            throw ValidationError("--encoding \(encoding) is neither a known encoding nor a known pattern")
        }
        return try TiktokenEncoding(name: encoding, rankFile: [UInt8](Data(contentsOf: URL(fileURLWithPath: path))), pattern: pattern)
    }
}

/// `switchboard count-tokens`: reads a JSON array of strings on standard input and prints the
/// token ids of each as a JSON array of arrays (the reference check compares them with the PyPI
/// `tokenizers`/`tiktoken` packages).
struct CountTokens: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "count-tokens", abstract: "Print the token ids of each string of a JSON array read from standard input.")

    @OptionGroup var choice: TokenizerChoice

    func run() throws {
        let tokenizer = try choice.load()
        let input = FileHandle.standardInput.readDataToEndOfFile()
        guard let texts = try JSONSerialization.jsonObject(with: input) as? [String] else {
            throw ValidationError("standard input must be a JSON array of strings")
        }
        let ids = texts.map { tokenizer.encode($0) }
        FileHandle.standardOutput.write(try JSONSerialization.data(withJSONObject: ids))
        FileHandle.standardOutput.write(Data("\n".utf8))
    }
}

/// `switchboard bench-tokenizer`: counting speed on a text file, in MB/s on one core. Build with
/// `-c release` for figures that mean something.
struct BenchTokenizer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-tokenizer", abstract: "Measure token counting speed (MB/s, one core) on a text file.")

    @OptionGroup var choice: TokenizerChoice

    @Option(help: "The text to count (UTF-8).")
    var text: String

    @Option(help: "Seconds to run at least.")
    var seconds = 3.0

    func run() throws {
        let tokenizer = try choice.load()
        let body = try String(contentsOf: URL(fileURLWithPath: text), encoding: .utf8)
        // Count paragraph by paragraph, as requests are counted (one message at a time).
        let paragraphs = body.components(separatedBy: "\n\n").filter { !$0.isEmpty }
        let bytes = paragraphs.reduce(0) { $0 + $1.utf8.count }
        var tokens = 0
        var rounds = 0
        let clock = ContinuousClock()
        let start = clock.now
        while clock.now - start < .seconds(seconds) {
            for p in paragraphs { tokens += tokenizer.count(p) }
            rounds += 1
        }
        let elapsed = clock.now - start
        let s = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let mb = Double(bytes * rounds) / 1e6
        print(String(format: "%@: %.1f MB/s (%d paragraphs, %.2f MB, %d tokens per round, %d rounds in %.2f s)",
                     tokenizer.kind.rawValue, mb / s, paragraphs.count, Double(bytes) / 1e6, tokens / max(rounds, 1), rounds, s))
    }
}
