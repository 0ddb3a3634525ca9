import NIOCore
import OpenAIWire

/// The request's parameters as values, for providers that build a new body: the deployment's
/// defaults (`litellm_params` request keys) overridden by the client's body members.
enum ProviderParameters {
    /// ``RequestBodyRewriter/gatewayOnlyKeys`` as strings: never sent to any provider.
    static let gatewayOnly: Set<String> = Set(RequestBodyRewriter.gatewayOnlyKeys.map { $0.description })

    /// Defaults first, then the body's members (a key given twice keeps its first place and
    /// its last value).
    static func merged(_ call: ProviderCall, defaults: [JSONMember]) -> [JSONMember] {
        var out: [JSONMember] = []
        out.reserveCapacity(defaults.count + call.scan.members.count)
        var index: [String: Int] = [:]
        func put(_ key: String, _ value: JSONValue) {
            if let i = index[key] { out[i].value = value } else { index[key] = out.count; out.append(JSONMember(key, value)) }
        }
        for d in defaults { put(d.key, d.value) }
        for i in call.scan.members.indices { put(call.scan.key(at: i, in: call.body), call.scan.value(at: i, in: call.body)) }
        return out
    }
}
