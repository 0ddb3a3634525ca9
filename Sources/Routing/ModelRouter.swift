import SwitchboardConfig

/// A deployment chosen for one request, with the upstream model after wildcard expansion.
public struct RoutedDeployment: Sendable {
    /// Shared with every other pick of this deployment: copying a pick costs one retain.
    @usableFromInline let ref: DeploymentRef
    /// The deployment (borrowed from the shared box, not copied). Inlinable so that a caller in
    /// another module reading one field (`routed.deployment.id`) loads that field only; behind an
    /// opaque accessor the whole `Deployment` was copied (and released) for each such read.
    @inlinable public var deployment: Deployment {
        _read { yield ref.value }
    }
    /// The deployment's slot (its position among the config's distinct deployments).
    public let slot: Int
    /// `litellm_params.model` for this request (`openai/gpt-4o` when `openai/*` matched `gpt-4o`).
    public let model: String
    /// The model group the request resolved to (after aliasing).
    public let group: String

    /// Whether ``model`` is the deployment's own `litellm_params.model` (no wildcard expansion),
    /// so the plan prepared at start serves it.
    public var isConfiguredModel: Bool { !expanded }
    let expanded: Bool
}

/// A resolved model group: the deployments that may serve a requested model name.
///
/// A class: sessions, picks and records pass it around, and a reference costs one retain where
/// copying the struct retained each of its arrays and strings.
public final class ModelGroup: Sendable {
    /// The group's `model_name` (the pattern text for wildcard groups).
    public let name: String
    public let deployments: [Deployment]
    /// Each deployment's slot, in the same order.
    public let slots: [Int]
    /// Each deployment in a shared box, in the same order (what picks hold).
    let refs: [DeploymentRef]
    /// Set for wildcard groups: what `*` matched in the requested name.
    public let captured: Substring?
    let weights: [Double]
    let totalWeight: Double

    init(name: String, deployments: [Deployment], slots: [Int], refs: [DeploymentRef], captured: Substring?) {
        self.name = name
        self.deployments = deployments
        self.slots = slots
        self.refs = refs
        self.captured = captured
        weights = ModelGroup.weights(for: deployments)
        totalWeight = weights.reduce(0, +)
    }

    /// simple-shuffle weights: `weight` if any deployment sets it, else `rpm`, else `tpm`,
    /// else uniform. Deployments missing the chosen field weigh 0 (as in LiteLLM).
    static func weights(for deployments: [Deployment]) -> [Double] {
        if deployments.contains(where: { $0.params.weight != nil }) {
            return deployments.map { $0.params.weight ?? 0 }
        }
        if deployments.contains(where: { $0.params.rpm != nil }) {
            return deployments.map { Double($0.params.rpm ?? 0) }
        }
        if deployments.contains(where: { $0.params.tpm != nil }) {
            return deployments.map { Double($0.params.tpm ?? 0) }
        }
        return Array(repeating: 1, count: deployments.count)
    }

    /// The deployment `deployments[index]` routed for this group.
    public func routed(_ index: Int) -> RoutedDeployment {
        let ref = refs[index]
        let model = captured.map { WildcardPattern.expand(ref.value.params.model, with: $0) } ?? ref.value.params.model
        return RoutedDeployment(ref: ref, slot: slots[index], model: model, group: name, expanded: captured != nil)
    }

    /// The deployment with this slot, routed for this group.
    public func routed(slot: Int) -> RoutedDeployment? {
        slots.firstIndex(of: slot).map(routed)
    }

    /// Weighted random pick (simple-shuffle).
    public func pick<R: RandomNumberGenerator>(using rng: inout R) -> RoutedDeployment {
        routed(pickIndex(using: &rng))
    }

    /// The index of a weighted random pick.
    public func pickIndex<R: RandomNumberGenerator>(using rng: inout R) -> Int {
        if deployments.count == 1 { return 0 }
        guard totalWeight > 0 else { return Int.random(in: 0..<deployments.count, using: &rng) }
        var x = Double.random(in: 0..<totalWeight, using: &rng)
        for (i, w) in weights.enumerated() {
            if x < w { return i }
            x -= w
        }
        return deployments.count - 1
    }
}

/// Maps requested model names to model groups: `model_group_alias`, then exact `model_name`,
/// then the most specific wildcard pattern.
///
/// ```swift
/// let router = ModelRouter(config: config)
/// guard let group = router.resolve("gpt-4") else { /* 400 unknown model */ }
/// let chosen = group.pick(using: &rng)
/// ```
public final class ModelRouter: Sendable {
    let exact: [String: ModelGroup]
    let patterns: [(pattern: WildcardPattern, deployments: [Deployment], slots: [Int], refs: [DeploymentRef])]
    /// Every distinct deployment id → its slot (config order); the slot indexes per-deployment
    /// tables and the state store.
    public let slots: [String: Int]
    /// The distinct deployments, by slot.
    public let deploymentsBySlot: [Deployment]
    let aliases: [String: String]
    /// Names listed by `/v1/models`: concrete model names, then aliases that are not hidden.
    public let listedModelNames: [String]

    public init(config: GatewayConfig) {
        var slots: [String: Int] = [:]
        var bySlot: [Deployment] = []
        for d in config.deployments where slots[d.id] == nil {
            slots[d.id] = bySlot.count
            bySlot.append(d)
        }
        self.slots = slots
        deploymentsBySlot = bySlot
        let refsBySlot = bySlot.map(DeploymentRef.init)
        var order: [String] = []
        var byName: [String: [Deployment]] = [:]
        for d in config.deployments {
            if byName[d.modelName] == nil { order.append(d.modelName) }
            byName[d.modelName, default: []].append(d)
        }
        var exact: [String: ModelGroup] = [:]
        var patterns: [(WildcardPattern, [Deployment], [Int], [DeploymentRef])] = []
        for name in order {
            let deployments = byName[name]!
            let groupSlots = deployments.map { slots[$0.id]! }
            let refs = groupSlots.map { refsBySlot[$0] }
            if let p = WildcardPattern(name) {
                patterns.append((p, deployments, groupSlots, refs))
            } else {
                exact[name] = ModelGroup(name: name, deployments: deployments, slots: groupSlots, refs: refs, captured: nil)
            }
        }
        // Most specific first; file order among equals.
        self.patterns = patterns.enumerated()
            .sorted { ($0.element.0.specificity, -$0.offset) > ($1.element.0.specificity, -$1.offset) }
            .map { (pattern: $0.element.0, deployments: $0.element.1, slots: $0.element.2, refs: $0.element.3) }
        self.exact = exact
        var aliases: [String: String] = [:]
        var listed = order.filter { WildcardPattern($0) == nil }
        for (alias, target) in config.routerSettings.modelGroupAlias {
            aliases[alias] = target.model
            if !target.hidden, exact[alias] == nil, !listed.contains(alias) { listed.append(alias) }
        }
        self.aliases = aliases
        self.listedModelNames = listed
    }

    /// The group serving `requested`, or `nil` when no name, alias or pattern matches.
    public func resolve(_ requested: String) -> ModelGroup? {
        let name = aliases[requested] ?? requested
        if let group = exact[name] { return group }
        for (pattern, deployments, slots, refs) in patterns {
            if let captured = pattern.capture(name) {
                return ModelGroup(name: pattern.text, deployments: deployments, slots: slots, refs: refs, captured: captured)
            }
        }
        return nil
    }

    /// Every deployment that could be listed in `/model/info`, grouped by name.
    public var groupNames: [String] { Array(exact.keys) + patterns.map(\.pattern.text) }
}

/// A deployment in a box shared by every pick of it.
@usableFromInline final class DeploymentRef: Sendable {
    @usableFromInline let value: Deployment
    init(_ value: Deployment) { self.value = value }
}
