import Foundation
import OpenAIWire

/// Parsers for the documents AWS credential endpoints answer with.
enum AWSCredentialDocuments {
    /// The JSON of the ECS/EKS container endpoint and EC2 instance metadata:
    /// `{"AccessKeyId", "SecretAccessKey", "Token", "Expiration"}` (IMDS adds `"Code": "Success"`).
    static func json(_ text: String, source: String) throws(CloudAuthError) -> AWSCredentials {
        guard let json = try? JSONValue.parse(text) else { throw CloudAuthError("\(source): the answer is not JSON") }
        if let code = json["Code"]?.stringValue, code != "Success" {
            throw CloudAuthError("\(source): answered Code \(code)\(json["Message"]?.stringValue.map { ": " + $0 } ?? "")")
        }
        guard let id = json["AccessKeyId"]?.stringValue, !id.isEmpty,
              let secret = json["SecretAccessKey"]?.stringValue, !secret.isEmpty else {
            throw CloudAuthError("\(source): the answer has no AccessKeyId/SecretAccessKey")
        }
        return AWSCredentials(
            accessKeyID: id, secretAccessKey: secret, sessionToken: json["Token"]?.stringValue,
            expiration: json["Expiration"]?.stringValue.flatMap(parseTime))
    }

    /// STS's XML answer: `<Credentials><AccessKeyId>…<SecretAccessKey>…<SessionToken>…<Expiration>…`.
    static func stsXML(_ text: String, source: String) throws(CloudAuthError) -> AWSCredentials {
        guard let credentials = XMLText.element("Credentials", in: text),
              let id = XMLText.element("AccessKeyId", in: credentials),
              let secret = XMLText.element("SecretAccessKey", in: credentials) else {
            throw CloudAuthError("\(source): the answer has no Credentials element")
        }
        return AWSCredentials(
            accessKeyID: id, secretAccessKey: secret, sessionToken: XMLText.element("SessionToken", in: credentials),
            expiration: XMLText.element("Expiration", in: credentials).flatMap(parseTime))
    }

    /// ISO 8601 time, with or without fractional seconds.
    static func parseTime(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }
}

/// Reads elements out of the small, flat XML documents AWS query APIs and S3 answer with: the
/// text of the first `<name>…</name>` (entities decoded). Not a general XML parser.
public enum XMLText {
    public static func element(_ name: String, in text: String) -> String? {
        guard let open = text.range(of: "<\(name)>") ?? text.range(of: "<\(name) ")
        else { return nil }
        var start = open.upperBound
        if text[open].hasSuffix(" ") {
            guard let gt = text[start...].firstIndex(of: ">") else { return nil }
            start = text.index(after: gt)
        }
        guard let close = text.range(of: "</\(name)>", range: start..<text.endIndex) else { return nil }
        return decodeEntities(String(text[start..<close.lowerBound]))
    }

    static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var out = text
        for (entity, char) in [("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&apos;", "'"), ("&amp;", "&")] {
            out = out.replacingOccurrences(of: entity, with: char)
        }
        return out
    }
}
