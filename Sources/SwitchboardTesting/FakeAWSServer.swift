import CloudAuth
import NIOCore
import NIOHTTP1
import NIOPosix
import OpenAIWire
import Providers
import Synchronization

/// What a fake AWS upstream answers.
public enum FakeAWSResponse: Sendable {
    /// A complete JSON answer; AWS names the error type in `x-amzn-errortype`.
    case json(status: Int, body: String, errorType: String? = nil)
    /// `application/vnd.amazon.eventstream`: each message written and flushed separately, `delay` apart.
    case eventStream(messages: [AWSEventStreamMessage], delay: TimeAmount = .zero)
    /// Exactly these bytes after a 200 event-stream head (e.g. a message with a broken CRC).
    case rawEventStream([UInt8])
    /// A query API's answer (STS): `text/xml`.
    case xml(status: Int, body: String)
}

/// An AWS service endpoint on a loopback port, for Bedrock and SageMaker fakes: real sockets,
/// real HTTP/1.1, JSON and binary event stream framing with correct CRCs, and Signature V4
/// checked the way AWS checks it (a request whose `authorization` does not verify against
/// ``credentials`` for ``region`` and ``service`` gets AWS's 403 `InvalidSignatureException`,
/// a missing one `MissingAuthenticationTokenException`). Records every request.
public final class FakeAWSServer: Sendable {
    public let port: Int
    public let credentials: AWSCredentials
    public let region: String
    public let service: String
    private let channel: any Channel
    private let recorded = Mutex<[RecordedRequest]>([])
    private let responder: @Sendable (RecordedRequest) -> FakeAWSResponse

    /// The test credentials of AWS's Signature V4 test suite.
    public static let testCredentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")

    public init(
        service: String, region: String = "us-east-1", credentials: AWSCredentials = FakeAWSServer.testCredentials,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        responder: @escaping @Sendable (RecordedRequest) -> FakeAWSResponse
    ) async throws {
        self.service = service
        self.region = region
        self.credentials = credentials
        self.responder = responder
        let box = Mutex<FakeAWSServer?>(nil)
        let channel = try await LoopbackHTTPServer.bind(group: group) { FakeAWSHandler(server: { box.withLock { $0 } }) }
        self.channel = channel
        self.port = channel.localAddress!.port!
        box.withLock { $0 = self }
    }

    /// `http://127.0.0.1:PORT` (an endpoint override: AWS paths start at the root).
    public var endpointURL: String { "http://127.0.0.1:\(port)" }

    /// Every request received so far.
    public var requests: [RecordedRequest] { recorded.withLock { $0 } }

    public func shutdown() async {
        try? await channel.close()
    }

    func handle(_ request: RecordedRequest) -> FakeAWSResponse {
        recorded.withLock { $0.append(request) }
        if let problem = signatureProblem(request) {
            return .json(status: 403, body: #"{"message":"\#(problem.message)"}"#, errorType: problem.type)
        }
        return responder(request)
    }

    /// Why AWS would refuse the request's signature, if it would.
    public func signatureProblem(_ request: RecordedRequest) -> (type: String, message: String)? {
        guard let authorization = request.header("authorization"), let amzDate = request.header("x-amz-date") else {
            return ("MissingAuthenticationTokenException", "Missing Authentication Token")
        }
        let prefix = "AWS4-HMAC-SHA256 Credential="
        guard authorization.hasPrefix(prefix) else { return ("IncompleteSignatureException", "Unsupported signing algorithm") }
        let fields = authorization.dropFirst(prefix.count).split(separator: ",").map { $0.drop(while: { $0 == " " }) }
        guard fields.count == 3, fields[1].hasPrefix("SignedHeaders="), fields[2].hasPrefix("Signature=") else {
            return ("IncompleteSignatureException", "Authorization header requires Credential, SignedHeaders and Signature")
        }
        let scope = fields[0].split(separator: "/")
        guard scope.count == 5, scope[0] == credentials.accessKeyID else {
            return ("UnrecognizedClientException", "The security token included in the request is invalid.")
        }
        guard scope[1] == amzDate.prefix(8), scope[2] == region, scope[3] == service, scope[4] == "aws4_request" else {
            return ("InvalidSignatureException", "Credential should be scoped to a valid region, service and date (\(scope[1...].joined(separator: "/")))")
        }
        let payloadHash = Array(request.body.utf8).withUnsafeBytes { AWSSigV4.sha256Hex($0) }
        if let claimed = request.header("x-amz-content-sha256"), claimed != payloadHash {
            return ("InvalidSignatureException", "The provided x-amz-content-sha256 header does not match what was computed.")
        }
        let signedNames = fields[1].dropFirst("SignedHeaders=".count).split(separator: ";").map(String.init)
        guard signedNames.contains("host") else { return ("InvalidSignatureException", "host must be a signed header") }
        let signed = request.headers.filter { signedNames.contains($0.name.lowercased()) }
        var path = Substring(request.uri)
        var query: Substring = ""
        if let q = request.uri.firstIndex(of: "?") {
            path = request.uri[..<q]
            query = request.uri[request.uri.index(after: q)...]
        }
        let signer = AWSSigV4(credentials: credentials, region: region, service: service)
        let expected = signer.authorization(
            method: request.method, canonicalPath: AWSSigV4.canonicalPath(String(path)), query: String(query), headers: signed,
            payloadHash: payloadHash, time: .init(amzDate: amzDate))
        guard expected == authorization else {
            return ("InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
        }
        if let token = credentials.sessionToken, request.header("x-amz-security-token") != token {
            return ("UnrecognizedClientException", "The security token included in the request is invalid.")
        }
        return nil
    }
}

/// One fake AWS connection.
final class FakeAWSHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let server: () -> FakeAWSServer?
    var assembler = RequestAssembler()

    init(server: @escaping () -> FakeAWSServer?) { self.server = server }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let request = assembler.feed(unwrapInboundIn(data)), let server = server() else { return }
        respond(context, server.handle(request))
    }

    func respond(_ context: ChannelHandlerContext, _ response: FakeAWSResponse) {
        switch response {
        case .json(let status, let text, let errorType):
            var h = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status))
            h.headers.add(name: "content-type", value: "application/json")
            h.headers.add(name: "content-length", value: String(text.utf8.count))
            h.headers.add(name: "x-amzn-requestid", value: "00000000-0000-4000-8000-000000000000")
            if let errorType { h.headers.add(name: "x-amzn-errortype", value: "\(errorType):http://internal.amazon.com/coral/com.amazon.bedrock/") }
            context.write(wrapOutboundOut(.head(h)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        case .xml(let status, let text):
            var h = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status))
            h.headers.add(name: "content-type", value: "text/xml")
            h.headers.add(name: "content-length", value: String(text.utf8.count))
            context.write(wrapOutboundOut(.head(h)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        case .eventStream(let messages, let delay):
            writeStreamHead(context)
            write(context, messages.map { $0.encoded() }[...], delay: delay)
        case .rawEventStream(let bytes):
            writeStreamHead(context)
            write(context, [ByteBuffer(bytes: bytes)][...], delay: .zero)
        }
    }

    func writeStreamHead(_ context: ChannelHandlerContext) {
        var h = HTTPResponseHead(version: .http1_1, status: .ok)
        h.headers.add(name: "content-type", value: "application/vnd.amazon.eventstream")
        h.headers.add(name: "transfer-encoding", value: "chunked")
        h.headers.add(name: "x-amzn-requestid", value: "00000000-0000-4000-8000-000000000000")
        context.writeAndFlush(wrapOutboundOut(.head(h)), promise: nil)
    }

    func write(_ context: ChannelHandlerContext, _ frames: ArraySlice<ByteBuffer>, delay: TimeAmount) {
        guard let first = frames.first else {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            return
        }
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(first))), promise: nil)
        let rest = frames.dropFirst()
        if delay == .zero {
            write(context, rest, delay: delay)
        } else {
            context.eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in
                guard context.channel.isActive else { return }
                write(context, rest, delay: delay)
            }
        }
    }
}
