/// Builds the key paths that errors and warnings name, e.g. `model_list[2].litellm_params.rpm`.
enum KeyPath {
    static func child(_ path: String, _ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    static func index(_ path: String, _ index: Int) -> String {
        "\(path)[\(index)]"
    }
}
