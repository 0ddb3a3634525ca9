import Yams

/// Turns Yams' parse errors into a `ConfigError` naming line and column, with hints for the
/// mistakes LiteLLM configs commonly make.
enum YAMLSyntax {
    static func error(_ error: YamlError, yaml: String) -> ConfigError {
        var problemLines: [Int] = []
        var message: String
        switch error {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            message = "YAML syntax error at line \(mark.line), column \(mark.column): \(problem)"
            problemLines.append(mark.line)
            if let context {
                message += " (\(context.text) at line \(context.mark.line), column \(context.mark.column))"
                problemLines.append(context.mark.line)
            }
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
            message = "YAML error at line \(context.mark.line), column \(context.mark.column): "
                + "duplicate key \(keys) in one mapping"
        case .reader(let problem, let offset, _, _):
            message = "YAML cannot be read: \(problem)"
            if let offset {
                let prefix = yaml.prefix(offset)
                let line = prefix.filter { $0 == "\n" }.count + 1
                let column = prefix.reversed().prefix { $0 != "\n" }.count + 1
                message = "YAML cannot be read at line \(line), column \(column): \(problem)"
            }
        default:
            message = "YAML syntax error: \(error)"
        }
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
        let starLine = problemLines.first { n in n >= 1 && n <= lines.count && hasBareStar(lines[n - 1]) }
        if let starLine {
            message += ". Line \(starLine) has an unquoted * value, which YAML reads as an alias:"
                + " quote it, e.g. model_name: \"*\""
        } else if message.contains("undefined alias") {
            message += ". A value starting with * is a YAML alias: quote it if you meant text"
        } else if problemLines.contains(where: { n in n >= 1 && n <= lines.count && lines[n - 1].hasPrefix("\t") }) {
            message += ". YAML does not allow tabs for indentation: use spaces"
        }
        return ConfigError(path: "", message: message)
    }

    /// Whether `line` has a `*` standing alone as a value (`model_name: *`, `- *`, `[*]`).
    static func hasBareStar(_ line: Substring) -> Bool {
        let code = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let chars = Array(code)
        for (i, c) in chars.enumerated() where c == "*" {
            let before = chars[..<i].last { $0 != " " && $0 != "\t" }
            let after = chars[(i + 1)...].first { $0 != " " && $0 != "\t" }
            let opensValue = before == nil || [":", "-", "[", ",", "{"].contains(before!)
            let closesValue = after == nil || [",", "]", "}"].contains(after!)
            if opensValue && closesValue { return true }
        }
        return false
    }
}
