import NIOCore
import OpenAIWire

/// What a deployment contributes to every span of a call it served, encoded once (when the
/// callback is made) so a call's spans copy these bytes rather than escape the same strings
/// again: its provider, model and address attributes, the tail of its attempts' span name,
/// and its part of the Langfuse metadata.
struct DeploymentSpanBytes: Sendable {
    /// `,gen_ai.system,gen_ai.provider.name` (empty for an unknown deployment).
    let provider: ByteBuffer
    /// `,gen_ai.response.model` (the call's span).
    let responseModel: ByteBuffer
    /// `,switchboard.model` (Langfuse) or `,gen_ai.request.model` (an attempt's span).
    let attemptModel: ByteBuffer
    /// `,langfuse.observation.model.name` (empty for an unknown deployment: the model group's).
    let observationModel: ByteBuffer
    /// `,switchboard.deployment_id[,switchboard.api_base]`.
    let idAndBase: ByteBuffer
    /// The model (or the id) escaped, and the closing quote: an attempt span's name after `"{operation} `.
    let nameTail: ByteBuffer
    /// `,"model_id":…,"api_base":…` of the Langfuse metadata (a JSON object, escaped later).
    let metadata: ByteBuffer
    let inputCostPerToken: Double?
    let outputCostPerToken: Double?

    init(id: String, entry d: DeploymentDirectory.Entry?, flavor: CallSpans.Flavor) {
        let bare = d.map { CallSpans.bareModel($0.model) }
        provider = .bytes { out in
            out.optionalStringAttribute("gen_ai.system", d?.provider)
            out.optionalStringAttribute("gen_ai.provider.name", d?.provider)
        }
        responseModel = .bytes { $0.optionalStringAttribute("gen_ai.response.model", bare) }
        attemptModel = .bytes { out in
            if flavor == .langfuse {
                out.optionalStringAttribute("switchboard.model", bare)
            } else {
                out.optionalStringAttribute("gen_ai.request.model", bare)
            }
        }
        observationModel = .bytes { $0.optionalStringAttribute("langfuse.observation.model.name", bare) }
        idAndBase = .bytes { out in
            out.stringAttribute("switchboard.deployment_id", id)
            out.optionalStringAttribute("switchboard.api_base", d?.apiBase)
        }
        nameTail = .bytes { out in
            out.writeJSONEscaped(bare ?? id)
            out.writeInteger(UInt8(ascii: "\""))
        }
        metadata = .bytes { out in
            out.writeStaticString(",\"model_id\":")
            out.writeJSONString(id)
            out.writeStaticString(",\"api_base\":")
            out.writeJSONStringOrNull(d?.apiBase)
        }
        inputCostPerToken = d?.inputCostPerToken
        outputCostPerToken = d?.outputCostPerToken
    }
}
