import OpenAIWire
import Yams

/// Turns YAML text into an ordered `JSONValue` tree, typing scalars the way LiteLLM (PyYAML) does.
///
/// Plain scalars: integers → `.int`, floats → `.double`, booleans (`true`, `True`, `yes`, ...) →
/// `.bool`, `null` / `~` / empty → `.null`. Everything else, dates such as `2023-05-15` or
/// `2023-07-01-preview` included, stays a `.string` with the raw text. Quoted, literal and folded
/// scalars are always strings. Merge keys (`<<: *base`) are applied; mapping order is kept.
enum YAMLTree {
    static func parse(_ yaml: String) throws(ConfigError) -> JSONValue {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw YAMLSyntax.error(error, yaml: yaml)
        } catch {
            throw ConfigError(path: "", message: "cannot parse YAML: \(error)")
        }
        guard let root else { return .null }
        return try convert(root, path: "")
    }

    private static func convert(_ node: Node, path: String) throws(ConfigError) -> JSONValue {
        switch node {
        case .scalar(let scalar):
            return value(of: scalar)
        case .sequence(let sequence):
            var items: [JSONValue] = []
            for (i, item) in sequence.enumerated() {
                items.append(try convert(item, path: KeyPath.index(path, i)))
            }
            return .array(items)
        case .mapping(let mapping):
            return .object(try members(of: mapping, path: path))
        case .alias:
            throw ConfigError(path: path, message: "YAML aliases are not supported here")
        }
    }

    private static func members(of mapping: Node.Mapping, path: String) throws(ConfigError) -> [JSONMember] {
        var members: [JSONMember] = []
        var merged: [JSONMember] = []
        for (keyNode, valueNode) in mapping {
            guard case .scalar(let keyScalar) = keyNode else {
                throw ConfigError(path: path, message: "mapping keys must be plain text, found a \(kind(keyNode))")
            }
            let key = keyScalar.string
            if key == "<<", keyScalar.style == .plain {
                merged += try mergeSources(valueNode, path: KeyPath.child(path, key))
                continue
            }
            members.append(JSONMember(key, try convert(valueNode, path: KeyPath.child(path, key))))
        }
        // Explicit keys win over merged ones; the first merge source wins among merges.
        for member in merged where !members.contains(where: { $0.key == member.key }) {
            members.append(member)
        }
        return members
    }

    private static func mergeSources(_ node: Node, path: String) throws(ConfigError) -> [JSONMember] {
        switch try convert(node, path: path) {
        case .object(let members):
            return members
        case .array(let items):
            var all: [JSONMember] = []
            for item in items {
                guard case .object(let members) = item else {
                    throw ConfigError(path: path, message: "a merge key (<<) takes mappings only")
                }
                all += members.filter { m in !all.contains(where: { $0.key == m.key }) }
            }
            return all
        default:
            throw ConfigError(path: path, message: "a merge key (<<) takes a mapping or a list of mappings")
        }
    }

    private static func value(of scalar: Node.Scalar) -> JSONValue {
        guard scalar.style == .plain || scalar.style == .any else { return .string(scalar.string) }
        let node = Node.scalar(scalar)
        switch node.tag.rawValue {
        case Tag.Name.null.rawValue:
            return .null
        case Tag.Name.bool.rawValue:
            return node.bool.map(JSONValue.bool) ?? .string(scalar.string)
        case Tag.Name.int.rawValue:
            return node.int.map(JSONValue.int) ?? .string(scalar.string)
        case Tag.Name.float.rawValue:
            return node.float.map(JSONValue.double) ?? .string(scalar.string)
        default:
            return .string(scalar.string)
        }
    }

    private static func kind(_ node: Node) -> String {
        switch node {
        case .scalar: return "scalar"
        case .sequence: return "list"
        case .mapping: return "mapping"
        case .alias: return "alias"
        }
    }
}
