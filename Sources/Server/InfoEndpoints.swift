import NIOCore
import OpenAIWire
import SwitchboardConfig

/// Bodies of the informational routes: models, model info and health.
enum InfoEndpoints {
    /// `GET /v1/models`: `{"object":"list","data":[{"id","object":"model","created","owned_by"}]}`.
    static func models(_ gateway: GatewayContext) -> ByteBuffer {
        var out = ByteBuffer()
        out.writeStaticString(#"{"object":"list","data":["#)
        for (n, name) in gateway.router.listedModelNames.enumerated() {
            if n > 0 { out.writeStaticString(",") }
            out.writeStaticString(#"{"id":"#)
            out.writeJSONString(name)
            out.writeStaticString(#","object":"model","created":1677610602,"owned_by":"openai"}"#)
        }
        out.writeStaticString("]}")
        return out
    }

    /// `GET /v1/model/info`: every deployment with its `litellm_params` (secrets removed) and
    /// `model_info`.
    static func modelInfo(_ gateway: GatewayContext) -> ByteBuffer {
        var data: [JSONValue] = []
        for d in gateway.config.deployments {
            var info = SecretRedaction.redact(d.modelInfo.all)
            if !info.contains(where: { $0.key == "id" }) { info.insert(JSONMember("id", .string(d.id)), at: 0) }
            data.append(.object([
                JSONMember("model_name", .string(d.modelName)),
                JSONMember("litellm_params", .object(SecretRedaction.redact(d.params.all))),
                JSONMember("model_info", .object(info)),
            ]))
        }
        var out = ByteBuffer()
        out.writeJSON(.object([JSONMember("data", .array(data))]))
        return out
    }

    static func liveliness() -> ByteBuffer {
        var out = ByteBuffer()
        out.writeStaticString(#""I'm alive!""#)
        return out
    }

    static func readiness(ready: Bool) -> ByteBuffer {
        var out = ByteBuffer()
        out.writeStaticString(ready ? #"{"status":"healthy","db":"Not connected","cache":null}"# : #"{"status":"draining"}"#)
        return out
    }
}
