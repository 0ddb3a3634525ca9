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
        add(["/v1/chat/completions", "/chat/completions"], modelCall("chat completion", "createChatCompletion", "ChatCompletionRequest", "ChatCompletionResponse", stream: "ChatCompletionStreamEvent"))
        add(["/v1/completions", "/completions"], modelCall("text completion", "createCompletion", "CompletionRequest", "CompletionResponse", stream: "CompletionStreamEvent"))
        add(["/v1/embeddings", "/embeddings"], modelCall("embedding", "createEmbedding", "EmbeddingRequest", "EmbeddingResponse", stream: nil))
        for prefix in ["/openai/deployments/{model}", "/v1/openai/deployments/{model}", "/engines/{model}", "/v1/engines/{model}"] {
            let id = prefix.replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "{model}", with: "model")
            paths.append("\"\(prefix)/chat/completions\": " + modelCall("chat completion (model in the path)", "createChatCompletion\(id)", "ChatCompletionRequest", "ChatCompletionResponse", stream: "ChatCompletionStreamEvent", pathModel: true))
            paths.append("\"\(prefix)/completions\": " + modelCall("text completion (model in the path)", "createCompletion\(id)", "CompletionRequest", "CompletionResponse", stream: "CompletionStreamEvent", pathModel: true))
            paths.append("\"\(prefix)/embeddings\": " + modelCall("embedding (model in the path)", "createEmbedding\(id)", "EmbeddingRequest", "EmbeddingResponse", stream: nil, pathModel: true))
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

    /// A model call: `request` and `response` name component schemas; `stream` the schema of one
    /// server-sent event when the endpoint streams (`stream: true`).
    static func modelCall(_ what: String, _ id: String, _ request: String, _ response: String, stream: String?, pathModel: Bool = false) -> String {
        let parameters = pathModel
            ? ##","parameters":[{"name":"model","in":"path","required":true,"schema":{"type":"string","minLength":1},"example":"\##(request == "EmbeddingRequest" ? "text-embedding-3-small" : "gpt-4o")","description":"The model group (replaces the body's model)"}]"##
            : ""
        let content = stream.map { ##""application/json":{"schema":{"$ref":"#/components/schemas/\##(response)"}},"text/event-stream":{"schema":{"$ref":"#/components/schemas/\##($0)"}}"## }
            ?? ##""application/json":{"schema":{"$ref":"#/components/schemas/\##(response)"}}"##
        let errors = errorStatuses.map { ##""\##($0)":{"$ref":"#/components/responses/Error"}"## }.joined(separator: ",")
        return ##"{"post":{"summary":"Create a \##(what)","operationId":"\##(id)"\##(parameters),"requestBody":{"required":true,"content":{"application/json":{"schema":{"$ref":"#/components/schemas/\##(request)"},"examples":\##(requestExamples[request] ?? "{}")}}},"responses":{"200":{"description":"The answer (with stream: true, server-sent events)","content":{\##(content)}},\##(errors)}}}"##
    }

    /// The statuses a model call answers with besides 200: the gateway's own (400 bad input or
    /// unknown model, 401 key, 404 unknown route, 408 timeout, 413 body too large, 429 rate limit,
    /// 500, 502 upstream unreachable, 503 no healthy deployment) and the upstream's error statuses,
    /// which are relayed as they came (403, 422 and 504 are the usual ones besides those).
    static let errorStatuses = [400, 401, 403, 404, 408, 413, 422, 429, 500, 502, 503, 504]

    /// Requests that work against the demo config (`scripts/demo`), as a media type's `examples`;
    /// Swagger UI offers them, schemathesis sends them.
    static let requestExamples = [
        "ChatCompletionRequest": ##"{"answer":{"summary":"An answer","value":{"model":"gpt-4o","messages":[{"role":"user","content":"Hello"}]}},"stream":{"summary":"A streamed answer (server-sent events)","value":{"model":"gpt-4o","messages":[{"role":"user","content":"Hello"}],"stream":true,"stream_options":{"include_usage":true}}}}"##,
        "CompletionRequest": ##"{"answer":{"summary":"An answer","value":{"model":"gpt-4o","prompt":"Say hello"}},"stream":{"summary":"A streamed answer (server-sent events)","value":{"model":"gpt-4o","prompt":"Say hello","stream":true}}}"##,
        "EmbeddingRequest": ##"{"embedding":{"summary":"One embedding","value":{"model":"text-embedding-3-small","input":"Hello"}}}"##,
    ]

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

    static let tokenCounter = ##"{"post":{"summary":"Count the tokens of chat messages or a prompt with the model's tokenizer (its custom_tokenizer, else its tiktoken encoding)","operationId":"tokenCounter","requestBody":{"required":true,"content":{"application/json":{"schema":{"$ref":"#/components/schemas/TokenCountRequest"},"examples":{"messages":{"summary":"Chat messages","value":{"model":"gpt-4o","messages":[{"role":"user","content":"Hello"}]}},"prompt":{"summary":"A prompt","value":{"model":"gpt-4o","prompt":"Hello"}}}}}},"responses":{"200":{"description":"The count","content":{"application/json":{"schema":{"$ref":"#/components/schemas/TokenCountResponse"}}}},"400":{"$ref":"#/components/responses/Error"},"401":{"$ref":"#/components/responses/Error"},"503":{"$ref":"#/components/responses/Error"}}}}"##

    static let responses = ##"{"Error":{"description":"An error in OpenAI's shape","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Error"}}}}}"##

    static let schemas = ##"""
    {"Error":{"type":"object","required":["error"],"properties":{"error":{"type":"object","required":["message","type"],"properties":{"message":{"type":"string"},"type":{"type":"string"},"param":{"type":["string","null"]},"code":{"type":["string","null"]}}}}},
    "Message":{"type":"object","required":["role"],"properties":{"role":{"type":"string","enum":["system","developer","user","assistant","tool","function"]},"content":{"oneOf":[{"type":"string"},{"type":"array","items":{"type":"object"}},{"type":"null"}]},"name":{"type":"string"},"tool_calls":{"type":"array","items":{"type":"object"}},"tool_call_id":{"type":"string"}},"additionalProperties":true},
    "ChatCompletionRequest":{"type":"object","required":["model","messages"],"properties":{"model":{"type":"string","minLength":1,"examples":["gpt-4o"],"description":"A model group of config.yaml"},"messages":{"type":"array","minItems":1,"items":{"$ref":"#/components/schemas/Message"}},"stream":{"type":"boolean"},"stream_options":{"type":"object"},"temperature":{"type":"number"},"top_p":{"type":"number"},"max_tokens":{"type":"integer"},"max_completion_tokens":{"type":"integer"},"n":{"type":"integer"},"stop":{"oneOf":[{"type":"string"},{"type":"array","items":{"type":"string"}}]},"tools":{"type":"array","items":{"type":"object"}},"tool_choice":{},"response_format":{"type":"object"},"user":{"type":"string"},"mock_response":{"type":"string","description":"Answer with this text without calling upstream"},"fallbacks":{"type":"array","items":{"type":"string"}},"num_retries":{"type":"integer"},"timeout":{"type":"number"}},"additionalProperties":true},
    "Usage":{"type":"object","properties":{"prompt_tokens":{"type":"integer"},"completion_tokens":{"type":"integer"},"total_tokens":{"type":"integer"}},"additionalProperties":true},
    "ChatCompletionResponse":{"type":"object","required":["id","object","choices"],"properties":{"id":{"type":"string"},"object":{"type":"string","const":"chat.completion"},"created":{"type":"integer"},"model":{"type":"string"},"choices":{"type":"array","items":{"type":"object","properties":{"index":{"type":"integer"},"message":{"$ref":"#/components/schemas/Message"},"finish_reason":{"type":["string","null"]}},"additionalProperties":true}},"usage":{"$ref":"#/components/schemas/Usage"}},"additionalProperties":true},
    "CompletionRequest":{"type":"object","required":["model","prompt"],"properties":{"model":{"type":"string","minLength":1,"examples":["gpt-4o"],"description":"A model group of config.yaml"},"prompt":{"oneOf":[{"type":"string"},{"type":"array","items":{"type":"string"}}]},"stream":{"type":"boolean"},"max_tokens":{"type":"integer"},"temperature":{"type":"number"},"stop":{"oneOf":[{"type":"string"},{"type":"array","items":{"type":"string"}}]},"mock_response":{"type":"string"}},"additionalProperties":true},
    "CompletionResponse":{"type":"object","required":["id","object","choices"],"properties":{"id":{"type":"string"},"object":{"type":"string","const":"text_completion"},"created":{"type":"integer"},"model":{"type":"string"},"choices":{"type":"array","items":{"type":"object","properties":{"index":{"type":"integer"},"text":{"type":"string"},"finish_reason":{"type":["string","null"]}},"additionalProperties":true}},"usage":{"$ref":"#/components/schemas/Usage"}},"additionalProperties":true},
    "ChatCompletionChunk":{"type":"object","required":["object","choices"],"properties":{"id":{"type":"string"},"object":{"type":"string","const":"chat.completion.chunk"},"created":{"type":"integer"},"model":{"type":"string"},"choices":{"type":"array","items":{"type":"object","properties":{"index":{"type":"integer"},"delta":{"type":"object","properties":{"role":{"type":["string","null"]},"content":{"type":["string","null"]},"tool_calls":{"type":["array","null"],"items":{"type":"object"}}},"additionalProperties":true},"finish_reason":{"type":["string","null"]}},"additionalProperties":true}},"usage":{"anyOf":[{"$ref":"#/components/schemas/Usage"},{"type":"null"}]}},"additionalProperties":true},
    "ChatCompletionStreamEvent":{"type":"object","required":["data"],"description":"One server-sent event of a streamed chat completion: a chunk, an error (the last event when the call fails after the first byte) or [DONE].","properties":{"event":{"type":"string"},"id":{"type":"string"},"retry":{"type":"integer"},"data":{"anyOf":[{"const":"[DONE]"},{"type":"string","contentMediaType":"application/json","contentSchema":{"anyOf":[{"$ref":"#/components/schemas/ChatCompletionChunk"},{"$ref":"#/components/schemas/Error"}]}}]}}},
    "CompletionChunk":{"type":"object","required":["object","choices"],"properties":{"id":{"type":"string"},"object":{"type":"string","const":"text_completion"},"created":{"type":"integer"},"model":{"type":"string"},"choices":{"type":"array","items":{"type":"object","properties":{"index":{"type":"integer"},"text":{"type":"string"},"finish_reason":{"type":["string","null"]}},"additionalProperties":true}},"usage":{"anyOf":[{"$ref":"#/components/schemas/Usage"},{"type":"null"}]}},"additionalProperties":true},
    "CompletionStreamEvent":{"type":"object","required":["data"],"description":"One server-sent event of a streamed text completion: a chunk, an error (the last event when the call fails after the first byte) or [DONE].","properties":{"event":{"type":"string"},"id":{"type":"string"},"retry":{"type":"integer"},"data":{"anyOf":[{"const":"[DONE]"},{"type":"string","contentMediaType":"application/json","contentSchema":{"anyOf":[{"$ref":"#/components/schemas/CompletionChunk"},{"$ref":"#/components/schemas/Error"}]}}]}}},
    "EmbeddingRequest":{"type":"object","required":["model","input"],"properties":{"model":{"type":"string","minLength":1,"examples":["text-embedding-3-small"],"description":"A model group of config.yaml"},"input":{"oneOf":[{"type":"string"},{"type":"array","items":{"type":"string"}},{"type":"array","items":{"type":"integer"}},{"type":"array","items":{"type":"array","items":{"type":"integer"}}}]},"encoding_format":{"type":"string","enum":["float","base64"]},"dimensions":{"type":"integer"},"user":{"type":"string"}},"additionalProperties":true},
    "EmbeddingResponse":{"type":"object","required":["object","data"],"properties":{"object":{"type":"string","const":"list"},"model":{"type":"string"},"data":{"type":"array","items":{"type":"object","properties":{"object":{"type":"string","const":"embedding"},"index":{"type":"integer"},"embedding":{"oneOf":[{"type":"array","items":{"type":"number"}},{"type":"string"}]}}}},"usage":{"$ref":"#/components/schemas/Usage"}},"additionalProperties":true},
    "ModelList":{"type":"object","required":["object","data"],"properties":{"object":{"type":"string","const":"list"},"data":{"type":"array","items":{"type":"object","required":["id","object"],"properties":{"id":{"type":"string"},"object":{"type":"string","const":"model"},"created":{"type":"integer"},"owned_by":{"type":"string"}}}}}},
    "ModelInfoList":{"type":"object","required":["data"],"properties":{"data":{"type":"array","items":{"type":"object","properties":{"model_name":{"type":"string"},"litellm_params":{"type":"object"},"model_info":{"type":"object"}}}}}},
    "Liveliness":{"type":"string"},
    "Readiness":{"type":"object","required":["status"],"properties":{"status":{"type":"string"},"db":{"type":"string"},"cache":{"type":["string","null"]}}},
    "TokenCountRequest":{"type":"object","required":["model"],"anyOf":[{"required":["messages"]},{"required":["prompt"]}],"properties":{"model":{"type":"string","minLength":1,"examples":["gpt-4o"],"description":"A model group of config.yaml, or any model name"},"messages":{"type":"array","items":{"$ref":"#/components/schemas/Message"}},"prompt":{"oneOf":[{"type":"string"},{"type":"array","items":{"type":"string"}}]}},"additionalProperties":true},
    "TokenCountResponse":{"type":"object","required":["total_tokens","request_model","model_used","tokenizer_type"],"properties":{"total_tokens":{"type":"integer"},"request_model":{"type":"string"},"model_used":{"type":"string"},"tokenizer_type":{"type":"string","enum":["openai_tokenizer","huggingface_tokenizer"]}}},
    "OpenAPIDocument":{"type":"object"}}
    """##
}
