import Foundation

/// Certificates made with `openssl` for one test: a CA, a server certificate it signs (for
/// `127.0.0.1` and `localhost`), a client certificate it signs, and a second CA that signs
/// nothing here (the "wrong CA"). PEM files in a temporary directory, removed by ``remove()``.
public struct TestCertificates: Sendable {
    public let directory: String
    public var caCertificate: String { directory + "/ca.crt" }
    public var serverCertificate: String { directory + "/server.crt" }
    public var serverKey: String { directory + "/server.key" }
    public var clientCertificate: String { directory + "/client.crt" }
    public var clientKey: String { directory + "/client.key" }
    /// A CA that did not sign the server's certificate.
    public var otherCACertificate: String { directory + "/other-ca.crt" }

    public init() throws {
        directory = NSTemporaryDirectory() + "switchboard-certs-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        let ca = ["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]
        for name in ["ca", "other-ca"] {
            try openssl(["req", "-x509"] + key + ["-keyout", "\(name).key", "-out", "\(name).crt", "-days", "2", "-subj", "/CN=Switchboard test \(name)"] + ca)
        }
        for (name, usage, names) in [("server", "serverAuth,clientAuth", "IP:127.0.0.1,DNS:localhost"), ("client", "clientAuth", "DNS:switchboard-client")] {
            try openssl(["req"] + key + ["-keyout", "\(name).key", "-out", "\(name).csr", "-subj", "/CN=\(name)"])
            try "subjectAltName=\(names)\nextendedKeyUsage=\(usage)\n".write(toFile: "\(directory)/\(name).ext", atomically: true, encoding: .utf8)
            try openssl(["x509", "-req", "-in", "\(name).csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                         "-out", "\(name).crt", "-days", "2", "-extfile", "\(name).ext"])
        }
    }

    /// Removes the files.
    public func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func openssl(_ args: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: RedisServer.tool("openssl"))
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: directory)
        let errors = Pipe()
        p.standardOutput = FileHandle.nullDevice
        p.standardError = errors
        try p.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw RedisServerError(message: "openssl \(args.joined(separator: " ")) failed: \(String(decoding: message, as: UTF8.self))")
        }
    }
}

extension RedisServer {
    /// A `redis-server` that speaks only TLS, on a free loopback port, with `certificates`'
    /// server certificate; `clientCertificates`: whether it requires a client certificate
    /// signed by their CA. Its ``cli(_:)`` connects with TLS.
    public static func tls(_ certificates: TestCertificates, clientCertificates: Bool = false, password: String? = nil) throws -> RedisServer {
        let port = freeLoopbackPort()
        return try RedisServer(
            port: 0, password: password,
            extraArguments: [
                "--tls-port", String(port), "--tls-cert-file", certificates.serverCertificate, "--tls-key-file", certificates.serverKey,
                "--tls-ca-cert-file", certificates.caCertificate, "--tls-auth-clients", clientCertificates ? "yes" : "no",
            ],
            cliArguments: ["--tls", "--cacert", certificates.caCertificate, "--cert", certificates.clientCertificate, "--key", certificates.clientKey],
            listenPort: port)
    }
}
