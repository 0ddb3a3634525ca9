import OpenAIWire
import SwitchboardConfig

/// Builds a raw-text prompt from chat messages with a deployment's custom prompt template
/// (`initial_prompt_value`, `roles`, `final_prompt_value`, `bos_token`, `eos_token`), the way
/// LiteLLM's `custom_prompt` does:
///
/// ```
/// bos_token + initial_prompt_value
///   + for each message: [bos_token if a system/human message follows an assistant turn]
///                       roles[role].pre_message + content + roles[role].post_message
///                       [+ eos_token after an assistant message]
///   + final_prompt_value
/// ```
///
/// A role the template does not name gets no pre/post text. Content parts are joined (text
/// parts only). Without a template, contents are joined with a space (LiteLLM's `default_pt`).
enum PromptTemplateRenderer {
    static func render(_ messages: [JSONValue], template: PromptTemplate?) -> String {
        guard let template else {
            return messages.map { text(of: $0) }.joined(separator: " ")
        }
        var prompt = template.bosToken + template.initialPromptValue
        var bosOpen = true
        for message in messages {
            let role = message["role"]?.stringValue ?? "user"
            if (role == "system" || role == "human") && !bosOpen {
                prompt += template.bosToken
                bosOpen = true
            }
            let parts = template.roles[role]
            prompt += (parts?.preMessage ?? "") + text(of: message) + (parts?.postMessage ?? "")
            if role == "assistant" {
                prompt += template.eosToken
                bosOpen = false
            }
        }
        return prompt + template.finalPromptValue
    }

    /// A message's text: the content string, or its text parts joined.
    static func text(of message: JSONValue) -> String {
        switch message["content"] {
        case .string(let s)?: return s
        case .array(let parts)?: return parts.compactMap { $0["type"]?.stringValue == "text" ? $0["text"]?.stringValue : nil }.joined()
        default: return ""
        }
    }
}
