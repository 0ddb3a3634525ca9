import OpenAIWire
import Tokenizers

/// Tokens of a request's prompt with a real tokenizer. Chat messages are counted the way OpenAI
/// documents for its current models (and LiteLLM's `token_counter` follows): 3 tokens per message,
/// the tokens of each of its string fields (role, content, name, …), 1 more for a `name`, and 3
/// priming the reply. Content given as parts counts its `text` parts; tool calls count their
/// function name and arguments; images are not counted.
enum PromptTokenCount {
    static let perMessage = 3
    static let perName = 1
    static let replyPriming = 3

    static func messages(_ messages: [JSONValue], _ tokenizer: any TokenCounting) -> Int {
        var total = replyPriming
        for message in messages {
            total += perMessage
            guard case .object(let members) = message else { continue }
            for member in members {
                switch member.value {
                case .string(let text):
                    total += tokenizer.count(text)
                    if member.key == "name" { total += perName }
                case .array(let items) where member.key == "content":
                    for part in items {
                        if let text = part["text"]?.stringValue { total += tokenizer.count(text) }
                    }
                case .array(let calls) where member.key == "tool_calls":
                    for call in calls {
                        if let name = call["function"]?["name"]?.stringValue { total += tokenizer.count(name) }
                        if let arguments = call["function"]?["arguments"]?.stringValue { total += tokenizer.count(arguments) }
                    }
                default:
                    break
                }
            }
        }
        return total
    }

    /// A completion prompt: a string, or a list of strings (summed).
    static func prompt(_ prompt: JSONValue, _ tokenizer: any TokenCounting) -> Int {
        switch prompt {
        case .string(let text): return tokenizer.count(text)
        case .array(let items): return items.reduce(0) { $0 + ($1.stringValue.map(tokenizer.count) ?? 0) }
        default: return 0
        }
    }
}
