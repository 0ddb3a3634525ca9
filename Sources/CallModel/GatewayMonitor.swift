/// Watches the gateway from outside the request path: the server calls it from periodic sweeps
/// (never per request), so whatever it does costs the relay nothing.
///
/// - ``callsStillOpen(_:)``: from each event loop's sweep, the calls open longer than
///   ``hangingThresholdNanoseconds``.
/// - ``deploymentHealth(_:)``: once a second, every deployment's cooldown state as the state
///   store sees it (with Redis, what every worker sees).
public protocol GatewayMonitor: Sendable {
    /// Calls open longer than this are reported; `nil`: no sweep for them.
    var hangingThresholdNanoseconds: UInt64? { get }
    func callsStillOpen(_ calls: [OpenCallSnapshot])
    func deploymentHealth(_ deployments: [DeploymentHealthSnapshot])
}

/// A call still being answered.
public struct OpenCallSnapshot: Sendable {
    public var callID: String
    public var modelGroup: String?
    /// The deployment of its current attempt.
    public var deploymentID: String?
    /// Since the request was complete.
    public var ageNanoseconds: UInt64

    public init(callID: String, modelGroup: String?, deploymentID: String?, ageNanoseconds: UInt64) {
        self.callID = callID
        self.modelGroup = modelGroup
        self.deploymentID = deploymentID
        self.ageNanoseconds = ageNanoseconds
    }
}

/// One deployment's health as the router's state store sees it.
public struct DeploymentHealthSnapshot: Sendable {
    public var deploymentID: String
    public var modelGroup: String
    public var coolingDown: Bool

    public init(deploymentID: String, modelGroup: String, coolingDown: Bool) {
        self.deploymentID = deploymentID
        self.modelGroup = modelGroup
        self.coolingDown = coolingDown
    }
}

/// A claim on an incident shared by every worker (Redis `SET key NX PX ttl`), so that one
/// incident alerts once in a cluster. `true`: this worker claimed it first.
public protocol SharedClaims: Sendable {
    func claim(_ key: String, ttlMilliseconds: Int) async -> Bool
}
