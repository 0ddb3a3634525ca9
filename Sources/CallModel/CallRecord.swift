import NIOCore
import OpenAIWire

/// Everything that happened in one finished model call, handed once to every sink
/// (deployment stats, debug log; later limits, metrics, callbacks, spend).
///
/// Times are uptime nanoseconds measured from the moment the request was complete.
public struct CallRecord: Sendable {
    /// Which OpenAI operation the call was.
    public enum Route: String, Sendable {
        case chatCompletions = "/chat/completions"
        case completions = "/completions"
        case embeddings = "/embeddings"
    }

    /// Who made the call.
    public enum Caller: Sendable, Equatable {
        /// No master key is configured.
        case anonymous
        /// Authenticated with `general_settings.master_key`.
        case masterKey
    }

    public var callID: String
    public var route: Route
    /// The model group the request resolved to, `nil` when it named no known model.
    public var modelGroup: String?
    /// The deployment of the last attempt (the one that answered, or failed last).
    public var deploymentID: String?
    /// The first attempt (absent when the call ended before any, e.g. a bad request or a mock).
    public var firstAttempt: AttemptRecord?
    /// Attempts after the first, in order (empty for almost every call: no allocation).
    public var laterAttempts: [AttemptRecord]
    /// The HTTP status answered to the client.
    public var status: Int
    /// The failure that ended the call, if it failed.
    public var failure: UpstreamFailure?
    public var stream: Bool
    /// True when the answer came from `mock_response`.
    public var mocked: Bool
    public var caller: Caller
    /// Until the first byte of the answer went to the client.
    public var timeToFirstByteNanoseconds: UInt64
    public var totalNanoseconds: UInt64
    /// The gateway's own share of the total: total minus time spent waiting for upstreams.
    public var overheadNanoseconds: UInt64
    public var usage: TokenUsage?
    /// The client's request body, kept only when a sink needs it (callbacks that log messages).
    /// Bodies are slices of the buffers the gateway read: a sink that keeps one beyond the
    /// event loop's tick it got the record in copies it (a slice would keep the channel's
    /// pooled receive buffer, and every later read would need a new one).
    public var requestBody: ByteBuffer?
    /// The request body's top-level members, as the gateway scanned them (with the body).
    public var requestMembers: JSONObjectScan?
    /// The JSON answer (plain calls), kept only when a sink needs it.
    public var responseBody: ByteBuffer?
    /// The server-sent events sent to the client (streams; the first 1 MiB), kept only when a
    /// sink needs the answer.
    public var streamedEvents: ByteBuffer?

    public init(
        callID: String, route: Route, modelGroup: String?, deploymentID: String?, firstAttempt: AttemptRecord?,
        laterAttempts: [AttemptRecord], status: Int, failure: UpstreamFailure?, stream: Bool, mocked: Bool,
        caller: Caller, timeToFirstByteNanoseconds: UInt64, totalNanoseconds: UInt64, overheadNanoseconds: UInt64,
        usage: TokenUsage?, requestBody: ByteBuffer? = nil, requestMembers: JSONObjectScan? = nil,
        responseBody: ByteBuffer? = nil, streamedEvents: ByteBuffer? = nil
    ) {
        self.requestBody = requestBody
        self.requestMembers = requestMembers
        self.responseBody = responseBody
        self.streamedEvents = streamedEvents
        self.callID = callID
        self.route = route
        self.modelGroup = modelGroup
        self.deploymentID = deploymentID
        self.firstAttempt = firstAttempt
        self.laterAttempts = laterAttempts
        self.status = status
        self.failure = failure
        self.stream = stream
        self.mocked = mocked
        self.caller = caller
        self.timeToFirstByteNanoseconds = timeToFirstByteNanoseconds
        self.totalNanoseconds = totalNanoseconds
        self.overheadNanoseconds = overheadNanoseconds
        self.usage = usage
    }

    /// Every attempt in order (allocates; for sinks that are not on the hot path).
    public var attempts: [AttemptRecord] {
        guard let firstAttempt else { return [] }
        return [firstAttempt] + laterAttempts
    }

    public var attemptCount: Int { firstAttempt == nil ? 0 : 1 + laterAttempts.count }

    /// The deployment slot (``AttemptRecord/deploymentIndex``) of the last attempt, read in
    /// place: a copy of an attempt would retain and release its strings.
    @inlinable
    public var lastDeploymentIndex: Int? {
        if !laterAttempts.isEmpty { return laterAttempts.withUnsafeBufferPointer { $0[$0.count - 1].deploymentIndex } }
        switch firstAttempt {
        case .some(let first): return first.deploymentIndex
        case .none: return nil
        }
    }

    /// Whether the first attempt failed (read in place).
    @inlinable
    public var firstAttemptFailed: Bool {
        switch firstAttempt {
        case .some(let first): return first.failure != nil
        case .none: return false
        }
    }

    public var succeeded: Bool { failure == nil && status < 400 }
}

/// One try against one deployment.
public struct AttemptRecord: Sendable {
    /// Why this attempt was made.
    public enum Reason: String, Sendable {
        case first
        /// The pooled keep-alive connection had been closed by the upstream; tried on a new one.
        case staleConnection = "stale_connection"
        case retry
        case fallback
    }

    public var deploymentID: String
    /// The deployment's position among the config's deployments (a stable array index for
    /// per-deployment tables).
    public var deploymentIndex: Int
    public var reason: Reason
    /// The upstream's status, 0 when no head arrived.
    public var upstreamStatus: Int
    /// `nil` when the attempt succeeded.
    public var failure: UpstreamFailure?
    /// When the attempt started, relative to the call's start.
    public var startNanoseconds: UInt64
    /// From the request being sent to the upstream's head (0 when none arrived).
    public var headNanoseconds: UInt64
    /// From the request being sent to the first byte (stream: first event) forwarded.
    public var firstByteNanoseconds: UInt64
    /// From the start of the attempt to its end.
    public var durationNanoseconds: UInt64

    public init(deploymentID: String, deploymentIndex: Int, reason: Reason) {
        self.deploymentID = deploymentID
        self.deploymentIndex = deploymentIndex
        self.reason = reason
        upstreamStatus = 0
        failure = nil
        startNanoseconds = 0
        headNanoseconds = 0
        firstByteNanoseconds = 0
        durationNanoseconds = 0
    }
}

/// Receives every finished call. Sinks are registered per event loop at start and called on
/// that loop: each call must be O(1) and never block (slow work goes behind a bounded queue).
public protocol CallRecordSink: AnyObject {
    func record(_ record: CallRecord)
    /// The same, for the last sink of a call: the record is handed over, not copied (a sink
    /// that keeps it saves a retain and a release of each of its references).
    func take(_ record: consuming CallRecord)
}

extension CallRecordSink {
    public func take(_ record: consuming CallRecord) { self.record(record) }
}
