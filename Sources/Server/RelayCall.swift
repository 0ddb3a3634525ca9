import NIOCore
import NIOHTTP1
import OpenAIWire
import Providers
import Routing

/// One model call (chat, completion, embedding): validates the body, routes it, and relays it
/// to the chosen deployment and the answer back — chunk by chunk for streams. Lives on the
/// client connection's event loop from start to finish.
final class RelayCall: UpstreamResponseDelegate {
    unowned let handler: HTTPGatewayHandler
    let endpoint: Endpoint
    let pathModel: String?
    var gateway: GatewayContext { handler.gateway }

    private var routed: RoutedDeployment?
    private var plan: DeploymentPlan?
    private var request: UpstreamRequest?
    private var stream = false
    private var connection: UpstreamConnection?
    private var callID = ""
    private var timeoutTask: Scheduled<Void>?
    private var finished = false
    private var retriedStaleConnection = false

    // Upstream answer.
    private var upstreamStatus = HTTPResponseStatus.ok
    private var responseBody: ByteBuffer?
    private var streaming = false

    // Timing, in uptime nanoseconds.
    private let receivedAt = NIODeadline.now().uptimeNanoseconds
    private var sentAt: UInt64 = 0
    private var upstreamHeadAt: UInt64 = 0

    init(handler: HTTPGatewayHandler, endpoint: Endpoint, pathModel: String?) {
        self.handler = handler
        self.endpoint = endpoint
        self.pathModel = pathModel
    }

    // MARK: Start

    func start(body: ByteBuffer) {
        do throws(OpenAIError) {
            try prepare(body: body)
        } catch {
            fail(error)
        }
    }

    private func prepare(body: ByteBuffer) throws(OpenAIError) {
        let scan: JSONObjectScan
        do throws(JSONSyntaxError) {
            scan = try JSONScanner.scanObject(body)
        } catch {
            throw .badRequest("Invalid JSON in request body: \(error.description).")
        }
        let model = try requestedModel(scan, body)
        try RequestValidation.check(endpoint, scan, body)
        stream = endpoint != .embeddings && (scan.bool("stream", in: body) ?? false)

        guard let group = gateway.router.resolve(model) else {
            throw .badRequest(
                "Invalid model name passed in model=\(model). Call `/v1/models` to view available models for your key.",
                param: "model")
        }
        let routed = group.pick(using: &handler.loop.random)
        self.routed = routed
        callID = handler.loop.makeCallID()

        if let mock = scan.value("mock_response", in: body) ?? routed.deployment.params.mockResponse {
            answerMock(mock, scan: scan, body: body, model: ProviderRegistry.split(routed.model)?.model ?? routed.model)
            return
        }

        let plan = try gateway.plan(for: routed)
        self.plan = plan
        let call = ProviderCall(endpoint: endpoint, body: body, scan: scan, stream: stream, dropParams: gateway.dropParams)
        request = try plan.provider.makeRequest(call, plan: plan)
        scheduleTimeout(seconds: timeoutSeconds(scan, body, routed))
        send(fresh: false)
    }

    private func requestedModel(_ scan: JSONObjectScan, _ body: ByteBuffer) throws(OpenAIError) -> String {
        if let pathModel { return pathModel }
        guard let i = scan.index(of: "model", in: body) else {
            throw .badRequest("Missing required parameter: 'model'. Pass one of the names listed by `/v1/models`.", param: "model")
        }
        guard let model = scan.value(at: i, in: body).stringValue, !model.isEmpty else {
            throw .badRequest("'model' must be a non-empty string.", param: "model")
        }
        return model
    }

    private func timeoutSeconds(_ scan: JSONObjectScan, _ body: ByteBuffer, _ routed: RoutedDeployment) -> Double {
        if let t = scan.value("timeout", in: body)?.doubleValue, t > 0 { return t }
        let p = routed.deployment.params
        if stream { return p.streamTimeout ?? p.timeout ?? gateway.streamTimeout }
        return p.timeout ?? gateway.requestTimeout
    }

    private func scheduleTimeout(seconds: Double) {
        let amount = TimeAmount.nanoseconds(Int64(min(seconds, 86_400) * 1e9))
        timeoutTask = handler.loop.pool.eventLoop.assumeIsolated().scheduleTask(in: amount) { [self] in
            timedOut(seconds)
        }
    }

    // MARK: Upstream

    private func send(fresh: Bool) {
        guard let request, !finished else { return }
        let pool = handler.loop.pool
        if !fresh, let conn = pool.takeIdle(request.target) {
            use(conn)
            return
        }
        pool.connect(request.target).assumeIsolated().whenComplete { [self] result in
            switch result {
            case .success(let conn):
                if finished { conn.cancel() } else { use(conn) }
            case .failure(let error):
                guard !finished else { return }
                fail(.upstreamUnavailable("Could not connect to the upstream of model group '\(routed?.group ?? "")' at \(plan?.apiBase ?? request.target.description): \(error)"))
            }
        }
    }

    private func use(_ conn: UpstreamConnection) {
        guard let request else { return }
        connection = conn
        sentAt = NIODeadline.now().uptimeNanoseconds
        conn.send(request, to: self)
    }

    func upstreamHead(status: HTTPResponseStatus) {
        upstreamHeadAt = NIODeadline.now().uptimeNanoseconds
        upstreamStatus = status
        if stream && status == .ok {
            streaming = true
            handler.writeStreamHead(meta: metadata())
        }
    }

    func upstreamBody(_ buffer: ByteBuffer) {
        if streaming {
            handler.writeStreamChunk(buffer)
            if !handler.isWritable { connection?.setReading(false) }
            return
        }
        var buffer = buffer
        if responseBody == nil {
            responseBody = buffer
        } else {
            responseBody!.writeBuffer(&buffer)
        }
    }

    func upstreamEnd() {
        connection = nil
        guard !finished else { return }
        finished = true
        timeoutTask?.cancel()
        if streaming {
            handler.writeStreamEnd()
            return
        }
        let body = responseBody ?? ByteBuffer()
        responseBody = nil
        if upstreamStatus.code < 400 {
            handler.writeJSON(status: upstreamStatus, body, meta: metadata())
        } else {
            answerUpstreamError(body)
        }
    }

    func upstreamFailed(_ error: any Error, beforeResponse: Bool) {
        let conn = connection
        connection = nil
        guard !finished else { return }
        // A kept-alive connection the upstream had closed: try once more on a new one.
        if beforeResponse, !retriedStaleConnection, let conn, conn.requestCount > 1 {
            retriedStaleConnection = true
            send(fresh: true)
            return
        }
        fail(.upstreamUnavailable("The upstream of model group '\(routed?.group ?? "")' failed: \(error)."))
    }

    // MARK: Answers

    private func answerUpstreamError(_ body: ByteBuffer) {
        let status = Int(upstreamStatus.code)
        if let scan = try? JSONScanner.scanObject(body), scan.index(of: "error", in: body) != nil {
            handler.writeJSON(status: upstreamStatus, body, meta: metadata())
            return
        }
        var text = String(buffer: body)
        if text.utf8.count > 4096 { text = String(text.prefix(4096)) + "…" }
        let error = OpenAIError(status: status, message: text.isEmpty ? "The upstream answered \(status) with no body." : text, type: UpstreamErrorType.name(for: status))
        handler.writeError(error, meta: metadata())
    }

    private func answerMock(_ mock: JSONValue, scan: JSONObjectScan, body: ByteBuffer, model: String) {
        finished = true
        let includeUsage = scan.value("stream_options", in: body)?["include_usage"]?.boolValue ?? false
        let inputs: Int
        if endpoint == .embeddings, let input = scan.value("input", in: body), case .array(let items) = input,
           !items.isEmpty, !items.allSatisfy({ $0.intValue != nil }) {
            inputs = items.count
        } else {
            inputs = 1
        }
        let answer = MockResponder.answer(
            mock, endpoint: endpoint, model: model, stream: stream, includeUsage: includeUsage, callID: callID,
            promptChars: body.readableBytes, created: Int(NIODeadline.wallClockSeconds), inputs: inputs)
        switch answer {
        case .json(let buffer):
            handler.writeJSON(status: .ok, buffer, meta: metadata())
        case .stream(let events):
            handler.writeStreamHead(meta: metadata())
            for e in events { handler.writeStreamChunk(e) }
            handler.writeStreamEnd()
        case .error(let error):
            handler.writeError(error, meta: metadata())
        }
    }

    /// Answers `error`, or ends a stream that already started with an SSE error event.
    private func fail(_ error: OpenAIError) {
        finished = true
        timeoutTask?.cancel()
        connection?.cancel()
        connection = nil
        if streaming {
            var event = ByteBuffer()
            event.writeStaticString("data: ")
            error.writeBody(to: &event)
            event.writeStaticString("\n\n")
            handler.writeStreamChunk(event)
            handler.writeStreamEnd()
        } else {
            handler.writeError(error, meta: routed == nil ? nil : metadata())
        }
    }

    private func timedOut(_ seconds: Double) {
        guard !finished else { return }
        fail(.timeout("Request to model group '\(routed?.group ?? "")' timed out after \(seconds) s (timeout / request_timeout)."))
    }

    // MARK: Client events

    func clientDisconnected() {
        guard !finished else { return }
        finished = true
        timeoutTask?.cancel()
        connection?.cancel()
        connection = nil
    }

    func clientWritabilityChanged(_ writable: Bool) {
        connection?.setReading(writable)
    }

    // MARK: Headers

    private func metadata() -> ResponseMetadata {
        let now = NIODeadline.now().uptimeNanoseconds
        let upstreamWait = sentAt == 0 ? 0 : (streaming ? upstreamHeadAt : now) &- sentAt
        let total = now &- receivedAt
        return ResponseMetadata(
            callID: callID, modelID: routed?.deployment.id, group: routed?.group, apiBase: plan?.apiBase,
            totalNanoseconds: total, overheadNanoseconds: total &- min(total, upstreamWait),
            attemptedRetries: retriedStaleConnection ? 1 : 0)
    }
}

/// The OpenAI error `type` for an upstream status without an OpenAI-shaped body.
enum UpstreamErrorType {
    static func name(for status: Int) -> String {
        switch status {
        case 400: return "invalid_request_error"
        case 401: return "authentication_error"
        case 403: return "permission_denied_error"
        case 404: return "not_found_error"
        case 408: return "timeout"
        case 422: return "unprocessable_entity_error"
        case 429: return "rate_limit_error"
        case 503: return "service_unavailable_error"
        default: return status >= 500 ? "internal_server_error" : "upstream_error"
        }
    }
}

extension NIODeadline {
    /// Seconds since the Unix epoch.
    static var wallClockSeconds: Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
