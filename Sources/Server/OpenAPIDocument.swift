import Foundation
import NIOCore

/// `GET /openapi.json`: an OpenAPI 3.1 description of every route the gateway serves, with
/// request and response schemas. Built once from the path items below; aliases (`/v1/...` and
/// bare, Azure-style `/openai/deployments/{model}/...`, `/engines/{model}/...`) share one item.
enum OpenAPIDocument {
    static let body = ByteBuffer(string: text)

    static let text: String = {
        var paths: [String] = []
        func add(_ aliases: [String], _ item: String) {
            for (n, path) in aliases.enumerated() {
                // operationIds must be unique: aliases get a suffix.
                let unique = n == 0 ? item : item.replacingOccurrences(
                    of: ##""operationId":"([^"]+)""##, with: ##""operationId":"$1Alias\##(n)""##, options: .regularExpression)
                paths.append("\"\(path)\": \(unique)")
            }
        }
        add(["/v1/chat/completions", "/chat/completions"], modelCall("chat completion", "createChatCompletion", "ChatCompletionRequest", "ChatCompletionResponse", stream: true))
        add(["/v1/completions", "/completions"], modelCall("text completion", "createCompletion", "CompletionRequest", "CompletionResponse", stream: true))
        add(["/v1/embeddings", "/embeddings"], modelCall("embedding", "createEmbedding", "EmbeddingRequest", "EmbeddingResponse", stream: false))
        for prefix in ["/openai/deployments/{model}", "/v1/openai/deployments/{model}", "/engines/{model}", "/v1/engines/{model}"] {
            let id = prefix.replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "{model}", with: "model")
            paths.append("\"\(prefix)/chat/completions\": " + modelCall("chat completion (model in the path)", "createChatCompletion\(id)", "ChatCompletionRequest", "ChatCompletionResponse", stream: true, pathModel: true))
            paths.append("\"\(prefix)/completions\": " + modelCall("text completion (model in the path)", "createCompletion\(id)", "CompletionRequest", "CompletionResponse", stream: true, pathModel: true))
            paths.append("\"\(prefix)/embeddings\": " + modelCall("embedding (model in the path)", "createEmbedding\(id)", "EmbeddingRequest", "EmbeddingResponse", stream: false, pathModel: true))
        }
        add(["/v1/models", "/models"], get("List the model groups", "listModels", json: "ModelList"))
        add(["/v1/model/info", "/model/info"], get("Every deployment with its litellm_params (secrets removed) and model_info", "modelInfo", json: "ModelInfoList"))
        add(["/utils/token_counter"], tokenCounter)
        add(["/health/liveliness", "/health/liveness"], get("Liveness", "liveliness", json: "Liveliness", open: true))
        add(["/health/readiness"], get("Readiness (503 while draining)", "readiness", json: "Readiness", open: true, unavailable: true))
        add(["/metrics", "/metrics/"], get("Prometheus metrics of the whole gateway (all workers)", "metrics", text: "text/plain"))
        add(["/openapi.json"], get("This document", "openapi", json: "OpenAPIDocument", open: true))
        add(["/"], get("Swagger UI", "docs", text: "text/html", open: true))
        return """
        {"openapi":"3.1.0","info":{"title":"Switchboard","version":"1.0.0","description":"An OpenAI-compatible LLM gateway configured by LiteLLM's config.yaml."},\
        "servers":[{"url":"/"}],"security":[{"bearerAuth":[]}],"paths":{\(paths.joined(separator: ","))},\
        "components":{"securitySchemes":{"bearerAuth":{"type":"http","scheme":"bearer","description":"general_settings.master_key (also accepted in `x-api-key` / `api-key`)"}},\
        "schemas":\(schemas),"responses":\(responses)}}
        """
    }()

    static func modelCall(_ what: String, _ id: String, _ request: String, _ response: String, stream: Bool, pathModel: Bool = false) -> String {
        let parameters = pathModel
            ? ##","parameters":[{"name":"model","in":"path","required":true,"schema":{"type":"string"},"description":"The model group (replaces the body's model)"}]"##
            : ""
        let content = stream
            ? ##""application/json":{"schema":{"$ref":"#/components/schemas/\##(response)"}},"text/event-stream":{"schema":{"type":"string","description":"Server-sent events: data: {chunk} lines, ending with data: [DONE]"}}"##
            : ##""application/json":{"schema":{"$ref":"#/components/schemas/\##(response)"}}"##
        return ##"{"post":{"summary":"Create a \##(what)","operationId":"\##(id)"\##(parameters),"requestBody":{"required":true,"content":{"application/json":{"schema":{"$ref":"#/components/schemas/\##(request)"}}}},"responses":{"200":{"description":"The answer","content":{\##(content)}},"400":{"$ref":"#/components/responses/Error"},"401":{"$ref":"#/components/responses/Error"},"404":{"$ref":"#/components/responses/Error"},"408":{"$ref":"#/components/responses/Error"},"413":{"$ref":"#/components/responses/Error"},"429":{"$ref":"#/components/responses/Error"},"500":{"$ref":"#/components/responses/Error"},"502":{"$ref":"#/components/responses/Error"},"503":{"$ref":"#/components/responses/Error"}}}}"##
    }

    static func get(_ summary: String, _ id: String, json: String? = nil, text: String? = nil, open: Bool = false, unavailable: Bool = false) -> String {
        var responses: String
        if let json {
            responses = ##""200":{"description":"OK","content":{"application/json":{"schema":{"$ref":"#/components/schemas/\##(json)"}}}}"##
        } else {
            responses = ##""200":{"description":"OK","content":{"\##(text ?? "text/plain")":{"schema":{"type":"string"}}}}"##
        }
        if unavailable { responses += ##","503":{"description":"Draining","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Readiness"}}}}"## }
        if !open { responses += ##","401":{"$ref":"#/components/responses/Error"}"## }
        let security = open ? ##","security":[]"## : ""
        return ##"{"get":{"summary":"\##(summary)","operationId":"\##(id)"\##(security),"responses":{\##(responses)}}}"##
    }

    static let tokenCounter = ##"{"post":{"summary":"Count the tokens of chat messages or a prompt with the model's tokenizer (its custom_tokenizer, else its tiktoken encoding)","operationId":"tokenCounter","requestBody":{"required":true,"content":{"application/json":{"schema":{"$ref":"#/components/schemas/TokenCountRequest"}}}},"responses":{"200":{"description":"The count","content":{"application/json":{"schema":{"$ref":"#/components/schemas/TokenCountResponse"}}}},"400":{"$ref":"#/components/responses/Error"},"401":{"$ref":"#/components/responses/Error"},"503":{"$ref":"#/components/responses/Error"}}}}"##

    static let responses = ##"{"Error":{"description":"An error in OpenAI's shape","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Error"}}}}}"##

    static let schemas = ##"""
    {"Error":{"type":"object","required":["error"],"properties":{"error":{"type":"object","required":["message","type"],"properties":{"message":{"type":"string"},"type":{"type":"string"},"param":{"type":["string","null"]},"code":{"type":["string","null"]}}}}},
    "Message":{"type":"object","required":["role"],"properties":{"role":{"type":"string","enum":["system","developer","user","assistant","tool","function"]},"content":{"oneOf":[{"type":"string"},{"type":"array","items":{"type":"object"}},{"type":"null"}]},"name":{"type":"string"},"tool_calls":{"type":"array","items":{"type":"object"}},"tool_call_id":{"type":"string"}},"additionalProperties":true},
    "ChatCompletionRequest":{"type":"object","required":["model","messages"],"properties":{"model":{"type":"string","description":"A model group of config.yaml"},"messages":{"type":"array","items":{"$ref":"#/components/schemas/Message"}},"stream":{"type":"boolean"},"stream_options":{"type":"object"},"temperature":{"type":"number"},"top_p":{"type":"number"},"max_tokens":{"type":"integer"},"max_completion_tokens":{"type":"integer"},"n":{"type":"integer"},"stop":{"oneOf":[{"type":"string"},{"type":"array","items":{"type":"string"}}]},"tools":{"type":"array","items":{"type":"object"}},"tool_choice":{},"response_format":{"type":"object"},"user":{"type":"string"},"mock_response":{"type":"string","description":"Answer with this text without calling upstream"},"fallbacks":{"type":"array","items":{"type":"string"}},"num_retries":{"type":"integer"},"timeout":{"type":"number"}},"additionalProperties":true},
    "Usage":{"type":"object","properties":{"prompt_tokens":{"type":"integer"},"completion_tokens":{"type":"integer"},"total_tokens":{"type":"integer"}},"additionalProperties":true},
    "ChatCompletionResponse":{"type":"object","required":["id","object","choices"],"properties":{"id":{"type":"string"},"object":{"type":"string","const":"chat.completion"},"created":{"type":"integer"},"model":{"type":"string"},"choices":{"type":"array","items":{"type":"object","properties":{"index":{"type":"integer"},"message":{"$ref":"#/components/schemas/Message"},"finish_reason":{"type":["string","null"]}},"additionalProperties":true}},"usage":{"$ref":"#/components/schemas/Usage"}},"additionalProperties":true},
    "CompletionRequest":{"type":"object","required":["model","prompt"],"properties":{"model":{"type":"string"},"prompt":{"oneOf":[{"type":"string"},{"type":"array","items":{"type":"string"}}]},"stream":{"type":"boolean"},"max_tokens":{"type":"integer"},"temperature":{"type":"number"},"stop":{"oneOf":[{"type":"string"},{"type":"array","items":{"type":"string"}}]},"mock_response":{"type":"string"}},"additionalProperties":true},
    "CompletionResponse":{"type":"object","required":["id","object","choices"],"properties":{"id":{"type":"string"},"object":{"type":"string","const":"text_completion"},"created":{"type":"integer"},"model":{"type":"string"},"choices":{"type":"array","items":{"type":"object","properties":{"index":{"type":"integer"},"text":{"type":"string"},"finish_reason":{"type":["string","null"]}},"additionalProperties":true}},"usage":{"$ref":"#/components/schemas/Usage"}},"additionalProperties":true},
    "EmbeddingRequest":{"type":"object","required":["model","input"],"properties":{"model":{"type":"string"},"input":{"oneOf":[{"type":"string"},{"type":"array","items":{"type":"string"}},{"type":"array","items":{"type":"integer"}},{"type":"array","items":{"type":"array","items":{"type":"integer"}}}]},"encoding_format":{"type":"string","enum":["float","base64"]},"dimensions":{"type":"integer"},"user":{"type":"string"}},"additionalProperties":true},
    "EmbeddingResponse":{"type":"object","required":["object","data"],"properties":{"object":{"type":"string","const":"list"},"model":{"type":"string"},"data":{"type":"array","items":{"type":"object","properties":{"object":{"type":"string","const":"embedding"},"index":{"type":"integer"},"embedding":{"oneOf":[{"type":"array","items":{"type":"number"}},{"type":"string"}]}}}},"usage":{"$ref":"#/components/schemas/Usage"}},"additionalProperties":true},
    "ModelList":{"type":"object","required":["object","data"],"properties":{"object":{"type":"string","const":"list"},"data":{"type":"array","items":{"type":"object","required":["id","object"],"properties":{"id":{"type":"string"},"object":{"type":"string","const":"model"},"created":{"type":"integer"},"owned_by":{"type":"string"}}}}}},
    "ModelInfoList":{"type":"object","required":["data"],"properties":{"data":{"type":"array","items":{"type":"object","properties":{"model_name":{"type":"string"},"litellm_params":{"type":"object"},"model_info":{"type":"object"}}}}}},
    "Liveliness":{"type":"string"},
    "Readiness":{"type":"object","required":["status"],"properties":{"status":{"type":"string"},"db":{"type":"string"},"cache":{"type":["string","null"]}}},
    "TokenCountRequest":{"type":"object","required":["model"],"properties":{"model":{"type":"string","description":"A model group of config.yaml, or any model name"},"messages":{"type":"array","items":{"$ref":"#/components/schemas/Message"}},"prompt":{"oneOf":[{"type":"string"},{"type":"array","items":{"type":"string"}}]}},"additionalProperties":true},
    "TokenCountResponse":{"type":"object","required":["total_tokens","request_model","model_used","tokenizer_type"],"properties":{"total_tokens":{"type":"integer"},"request_model":{"type":"string"},"model_used":{"type":"string"},"tokenizer_type":{"type":"string","enum":["openai_tokenizer","huggingface_tokenizer"]}}},
    "OpenAPIDocument":{"type":"object"}}
    """##
}
