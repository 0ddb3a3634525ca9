import NIOCore
import OpenAIWire
import SwitchboardConfig
import Tokenizers

/// `POST /utils/token_counter` (LiteLLM's): `{model, messages}` or `{model, prompt}` →
/// `{total_tokens, request_model, model_used, tokenizer_type}`.
///
/// The model's first deployment decides: its `custom_tokenizer` (a Hugging Face tokenizer), else
/// the tiktoken encoding of its `litellm_params.model` (provider prefix removed; o200k_base for the
/// GPT-4o/4.1/5 and o-series, cl100k_base for other OpenAI models and as the default for every
/// other model, as LiteLLM does). A name that is no model group is counted as that model name.
enum TokenCounterEndpoint {
    struct Request {
        var model: String
        var messages: [JSONValue]?
        var prompt: JSONValue?
    }

    static func parse(_ body: ByteBuffer) throws(OpenAIError) -> Request {
        let scan: JSONObjectScan
        do throws(JSONSyntaxError) {
            scan = try JSONScanner.scanObject(body)
        } catch {
            throw .badRequest("Invalid JSON in request body: \(error.description).")
        }
        guard let model = scan.value("model", in: body)?.stringValue, !model.isEmpty else {
            throw .badRequest("Missing required parameter: 'model' (a non-empty string).", param: "model")
        }
        var request = Request(model: model)
        if let messages = scan.value("messages", in: body), !messages.isNull {
            guard let list = messages.arrayValue else { throw .badRequest("'messages' must be a list of messages.", param: "messages") }
            request.messages = list
        }
        if let prompt = scan.value("prompt", in: body), !prompt.isNull {
            guard prompt.stringValue != nil || prompt.arrayValue != nil else {
                throw .badRequest("'prompt' must be a string or a list of strings.", param: "prompt")
            }
            request.prompt = prompt
        }
        guard request.messages != nil || request.prompt != nil else {
            throw .badRequest("Give 'messages' or 'prompt' to count.", param: "messages")
        }
        return request
    }

    /// The answer body, or the error to answer.
    static func answer(_ request: Request, gateway: GatewayContext) async -> Result<ByteBuffer, OpenAIError> {
        let slot = gateway.router.deploymentsBySlot.firstIndex { $0.modelName == request.model }
        var modelUsed = request.model
        if let slot {
            let model = gateway.router.deploymentsBySlot[slot].params.model
            modelUsed = model.firstIndex(of: "/").map { String(model[model.index(after: $0)...]) } ?? model
        }
        let tokenizer: any TokenCounting
        do {
            if let slot, let custom = try await gateway.tokenizers.custom(slot: slot) {
                tokenizer = custom
            } else {
                tokenizer = try await gateway.tokenizers.encoding(OpenAIEncodingName.forModel(modelUsed) ?? .cl100k)
            }
        } catch {
            return .failure(OpenAIError(status: 503, message: "No tokenizer for model \(request.model): \(error)", type: "service_unavailable"))
        }
        var total = 0
        if let messages = request.messages { total += PromptTokenCount.messages(messages, tokenizer) }
        if let prompt = request.prompt { total += PromptTokenCount.prompt(prompt, tokenizer) }
        var out = ByteBuffer()
        out.writeJSON(.object([
            JSONMember("total_tokens", .int(total)),
            JSONMember("request_model", .string(request.model)),
            JSONMember("model_used", .string(modelUsed)),
            JSONMember("tokenizer_type", .string(tokenizer.kind.rawValue)),
        ]))
        return .success(out)
    }
}
