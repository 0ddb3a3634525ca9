import Synchronization

/// What a deployment contributes to every span of a call it served, encoded once in the
/// exporter's encoding (when the callback is made) so a call's spans copy these bytes rather than escape the same strings
/// again: its provider, model and address attributes, the tail of its attempts' span name,
/// and its part of the Langfuse metadata. A class: a lookup shares it, no copy.
final class DeploymentSpanBytes: Sendable {
    let id: String
    /// `,gen_ai.system,gen_ai.provider.name` (empty for an unknown deployment).
    let provider: [UInt8]
    /// `,gen_ai.response.model` (the call's span).
    let responseModel: [UInt8]
    /// `,switchboard.model` (Langfuse) or `,gen_ai.request.model` (an attempt's span).
    let attemptModel: [UInt8]
    /// `,langfuse.observation.model.name` (empty for an unknown deployment: the model group's).
    let observationModel: [UInt8]
    /// `,switchboard.deployment_id[,switchboard.api_base]`.
    let idAndBase: [UInt8]
    /// The model (or the id) as an attempt span's name ends (``SpanOut/nameTail(_:)``).
    let nameTail: [UInt8]
    /// `,"model_id":…,"api_base":…` of the Langfuse metadata (JSON in either encoding).
    let metadata: [UInt8]
    let inputCostPerToken: Double?
    let outputCostPerToken: Double?
    /// The longest of the fragments above (a call's bound counts it once per use).
    let longest: Int

    init<W: SpanOut>(id: String, entry d: DeploymentDirectory.Entry?, flavor: CallSpans.Flavor, as: W.Type) {
        self.id = id
        let bare = d.map { CallSpans.bareModel($0.model) }
        // Every string escaped (at most 6 bytes a byte), plus the keys.
        let bound = 512 + 6 * (id.utf8.count + (d?.model.utf8.count ?? 0) + 2 * (d?.provider.utf8.count ?? 0) + (d?.apiBase?.utf8.count ?? 0))
        provider = W.bytes(bound: bound) { out in
            out.optionalStringAttribute("gen_ai.system", d?.provider)
            out.optionalStringAttribute("gen_ai.provider.name", d?.provider)
        }
        responseModel = W.bytes(bound: bound) { $0.optionalStringAttribute("gen_ai.response.model", bare) }
        attemptModel = W.bytes(bound: bound) { out in
            if flavor == .langfuse {
                out.optionalStringAttribute("switchboard.model", bare)
            } else {
                out.optionalStringAttribute("gen_ai.request.model", bare)
            }
        }
        observationModel = W.bytes(bound: bound) { $0.optionalStringAttribute("langfuse.observation.model.name", bare) }
        idAndBase = W.bytes(bound: bound) { out in
            out.stringAttribute("switchboard.deployment_id", id)
            out.optionalStringAttribute("switchboard.api_base", d?.apiBase)
        }
        nameTail = W.nameTail(bare ?? id)
        metadata = JSONOut.bytes(bound: bound) { out in
            out.raw(",\"model_id\":")
            out.string(id)
            out.raw(",\"api_base\":")
            out.stringOrNull(d?.apiBase)
        }
        inputCostPerToken = d?.inputCostPerToken
        outputCostPerToken = d?.outputCostPerToken
        longest = [provider, responseModel, attemptModel, observationModel, idAndBase, nameTail, metadata].map(\.count).max() ?? 0
    }
}

/// The span bytes made for deployment ids the config does not know, kept for the writer's
/// life: every ``DeploymentSpanBytes`` a writer hands out stays alive unretained.
final class StrayDeployments: Sendable {
    private let made = Mutex<[String: DeploymentSpanBytes]>([:])

    func get(_ id: String, make: () -> DeploymentSpanBytes) -> Unmanaged<DeploymentSpanBytes> {
        made.withLock { made in
            if let d = made[id] { return .passUnretained(d) }
            let d = make()
            made[id] = d
            return .passUnretained(d)
        }
    }
}
