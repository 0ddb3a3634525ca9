import NIOCore
import NIOSSL

/// Where Redis is and how calls to it behave. Its `description` never shows the password.
public struct RedisConfiguration: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// ACL user for `AUTH username password` (`nil`: `AUTH password`).
    public var username: String?
    public var password: String?
    /// `SELECT` index (0: the default database, no SELECT sent).
    public var database: Int
    /// TLS through NIOSSL on the channel (`rediss://`).
    public var tls: Bool
    /// PEM file of the CA certificates that sign the server's certificate (`redis_ssl_ca_certs`;
    /// `nil`: the system's trust store).
    public var tlsCACertificates: String?
    /// PEM files of a client certificate (chain) and its key, for servers that ask for one
    /// (`redis_ssl_certfile`, `redis_ssl_keyfile`).
    public var tlsCertificate: String?
    public var tlsKey: String?
    /// Verify the server's certificate and name (`redis_ssl_cert_reqs: none` turns it off).
    public var tlsVerify: Bool = true
    /// Startup nodes of a Redis Cluster (`redis_startup_nodes`); empty: one server at
    /// `host`:`port`. With nodes, the client reads the slot map from them and sends each
    /// command to its slot's master.
    public var clusterNodes: [RedisNodeAddress] = []
    /// Each call's deadline: no answer by then and it fails with ``RedisError/timeout``.
    public var callTimeout: TimeAmount
    public var connectTimeout: TimeAmount
    /// Consecutive failed calls (timeouts, closed connections) that open the circuit breaker.
    public var breakerThreshold: Int
    /// How long an open breaker fails calls at once before one probe is let through.
    public var breakerOpenTime: TimeAmount

    public init(
        host: String = "127.0.0.1", port: Int = 6379, username: String? = nil, password: String? = nil,
        database: Int = 0, tls: Bool = false, callTimeout: TimeAmount = .milliseconds(5),
        connectTimeout: TimeAmount = .milliseconds(500), breakerThreshold: Int = 3, breakerOpenTime: TimeAmount = .milliseconds(500)
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
        self.callTimeout = callTimeout
        self.connectTimeout = connectTimeout
        self.breakerThreshold = breakerThreshold
        self.breakerOpenTime = breakerOpenTime
    }

    /// Reads `redis://[user[:password]@]host[:port][/db]` or `rediss://...` (TLS); `nil` when
    /// the text is not such a URL.
    public init?(url: String) {
        let tls: Bool
        var rest: Substring
        if url.hasPrefix("redis://") {
            tls = false
            rest = url.dropFirst("redis://".count)
        } else if url.hasPrefix("rediss://") {
            tls = true
            rest = url.dropFirst("rediss://".count)
        } else {
            return nil
        }
        self.init(tls: tls)
        if let q = rest.firstIndex(of: "?") { rest = rest[..<q] }
        if let slash = rest.firstIndex(of: "/") {
            let db = rest[rest.index(after: slash)...]
            if !db.isEmpty {
                guard let n = Int(db), n >= 0 else { return nil }
                database = n
            }
            rest = rest[..<slash]
        }
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                let user = Self.percentDecoded(credentials[..<colon])
                username = user.isEmpty ? nil : user
                password = Self.percentDecoded(credentials[credentials.index(after: colon)...])
            } else if !credentials.isEmpty {
                password = Self.percentDecoded(credentials)
            }
        }
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {  // [IPv6]:port
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            rest = rest[rest.index(after: close)...]
            if rest.hasPrefix(":") {
                guard let p = Int(rest.dropFirst()), (1...65535).contains(p) else { return nil }
                port = p
            }
        } else if let colon = rest.lastIndex(of: ":") {
            guard let p = Int(rest[rest.index(after: colon)...]), (1...65535).contains(p) else { return nil }
            port = p
            host = String(rest[..<colon])
        } else {
            host = String(rest)
        }
        if host.isEmpty { host = "127.0.0.1" }
    }

    private static func percentDecoded(_ s: Substring) -> String {
        var out: [UInt8] = []
        var bytes = Array(s.utf8)[...]
        while let b = bytes.popFirst() {
            if b == UInt8(ascii: "%"), bytes.count >= 2,
               let v = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16) {
                out.append(v)
                bytes = bytes.dropFirst(2)
            } else {
                out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `redis://host:port/db` (or `rediss://`), without credentials; a cluster lists its
    /// startup nodes (`redis://a:7000,b:7001`).
    public var description: String {
        let hosts = clusterNodes.isEmpty ? RedisNodeAddress(host: host, port: port).description : clusterNodes.map(\.description).joined(separator: ",")
        return "\(tls ? "rediss" : "redis")://\(hosts)\(database == 0 ? "" : "/\(database)")"
    }

    /// The same settings for one node of a cluster.
    func node(_ address: RedisNodeAddress) -> RedisConfiguration {
        var c = self
        c.host = address.host
        c.port = address.port
        c.clusterNodes = []
        c.database = 0  // a cluster has only database 0 (it refuses SELECT)
        return c
    }

    /// The NIOSSL client context these settings ask for (`nil` without TLS); throws when a
    /// certificate or key file cannot be read.
    public func makeTLSContext() throws -> NIOSSLContext? {
        guard tls else { return nil }
        var c = TLSConfiguration.makeClientConfiguration()
        if let tlsCACertificates { c.trustRoots = .file(tlsCACertificates) }
        if !tlsVerify { c.certificateVerification = .none }
        if let tlsCertificate {
            c.certificateChain = try NIOSSLCertificate.fromPEMFile(tlsCertificate).map { .certificate($0) }
            c.privateKey = .privateKey(try NIOSSLPrivateKey(file: tlsKey ?? tlsCertificate, format: .pem))
        }
        return try NIOSSLContext(configuration: c)
    }
}
