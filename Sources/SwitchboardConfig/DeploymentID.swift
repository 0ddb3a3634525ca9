import Crypto
import OpenAIWire

/// Stable deployment ids for entries without `model_info.id`.
///
/// The id is the lowercase hex SHA-256 of a canonical text of the entry as written in the file,
/// before `os.environ/` resolution (rotating a secret keeps the id): `model_name`, `litellm_params`
/// with keys sorted, the organization for entries expanded from an organization list, and the
/// entry's index only when an identical entry came earlier in the file.
enum DeploymentID {
    /// The part of the canonical text shared by every deployment of one `model_list` entry.
    static func baseText(modelName: JSONValue?, litellmParams: JSONValue?) -> String {
        "model_name=\(canonical(modelName ?? .null).jsonText)\n"
            + "litellm_params=\(canonical(litellmParams ?? .null).jsonText)"
    }

    /// The id of one deployment. `index` is given only to tell identical entries apart.
    static func generate(baseText: String, organization: String?, index: Int?) -> String {
        var text = baseText
        if let organization { text += "\norganization=\(JSONValue.string(organization).jsonText)" }
        if let index { text += "\nindex=\(index)" }
        let digest = SHA256.hash(data: Array(text.utf8))
        return digest.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// `value` with object keys sorted at every depth.
    static func canonical(_ value: JSONValue) -> JSONValue {
        switch value {
        case .array(let items):
            return .array(items.map(canonical))
        case .object(let members):
            return .object(members.map { JSONMember($0.key, canonical($0.value)) }.sorted { $0.key < $1.key })
        default:
            return value
        }
    }
}
