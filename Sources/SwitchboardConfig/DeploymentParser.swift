import OpenAIWire

/// Reads one `model_list` entry into its deployments: resolves `os.environ/` references, merges
/// the referenced credential, expands an organization list, assigns ids, and drops the entry when
/// `LITELLM_ENVIRONMENT` is set and not among its `supported_environments`.
struct DeploymentParser {
    let resolver: EnvironmentResolver
    /// Resolved `credential_list`.
    let credentials: [Credential]
    /// `LITELLM_ENVIRONMENT`, validated.
    let activeEnvironment: String?
    /// Whether an unset `os.environ/` variable fails the load (else it reads as absent and is
    /// recorded, and the deployment is marked unusable when its `litellm_params` need it).
    let strict: Bool
    /// Unset variables of `credential_list` (paths `credential_list[i].credential_values.KEY...`).
    let credentialMissing: [MissingVariable]

    /// - Parameters:
    ///   - raw: the entry as written (before resolution).
    ///   - baseText: `DeploymentID.baseText` of the entry.
    ///   - idIndex: the index to mix into generated ids, when an identical entry came earlier.
    ///   - missing: unset variables found in this entry are appended to it (not when `strict`).
    func parse(
        _ raw: JSONValue, index: Int, baseText: String, idIndex: Int?, warnings: inout [ConfigWarning],
        missing: inout [MissingVariable]
    ) throws(ConfigError) -> [Deployment] {
        let path = KeyPath.index("model_list", index)
        let entry = MappingReader(members: try ValueConversion.mapping(raw, at: path), path: path)
        warnings += entry.unknownKeys(
            known: KnownKeys.modelEntry,
            message: "unknown model_list entry key, ignored (request defaults belong under litellm_params)")

        var found: [MissingVariable]? = strict ? nil : []
        defer { missing += found ?? [] }
        var top: [JSONMember] = []
        for key in ["model_name", "model_info"] {
            if let value = entry[key] {
                top.append(JSONMember(key, try resolver.resolve(value, at: entry.path(key), missing: &found)))
            }
        }
        let resolvedTop = MappingReader(members: top, path: path)
        let modelName = try resolvedTop.requiredString("model_name")
        let info = try resolvedTop.reader("model_info") ?? MappingReader(members: [], path: entry.path("model_info"))
        if let active = activeEnvironment, let supported = try ModelInfoParser.supportedEnvironments(info),
           !supported.contains(active) {
            return []
        }

        guard let rawParams = entry["litellm_params"] else {
            throw ConfigError(path: entry.path("litellm_params"), message: "required mapping is missing")
        }
        let paramsPath = entry.path("litellm_params")
        _ = try ValueConversion.mapping(rawParams, at: paramsPath)
        var paramsMissing: [MissingVariable]? = strict ? nil : []
        defer { found? += paramsMissing ?? [] }
        var members = try ValueConversion.mapping(
            resolver.resolve(rawParams, at: paramsPath, missing: &paramsMissing), at: paramsPath)
        var needed = paramsMissing ?? []
        var origins: [String: String] = [:]
        let own = MappingReader(members: members, path: paramsPath)
        if let credentialName = try own.string("litellm_credential_name") {
            guard let j = credentials.firstIndex(where: { $0.name == credentialName }) else {
                let known = credentials.map(\.name).joined(separator: ", ")
                throw ConfigError(
                    path: own.path("litellm_credential_name"),
                    message: "no credential named \(ValueConversion.describe(.string(credentialName))) in credential_list"
                        + (known.isEmpty ? "" : " (defined: \(known))"))
            }
            let credentialPath = KeyPath.index("credential_list", j)
            needed += inheritedMissing(credentialPath: credentialPath, params: members)
            (members, origins) = CredentialParser.merge(members, credential: credentials[j], credentialPath: credentialPath)
        }

        var reader = MappingReader(members: members, path: paramsPath)
        reader.origins = origins
        let organizations = try organizationList(reader)
        let explicitID = try info.string("id").flatMap { $0.isEmpty ? nil : $0 }

        var deployments: [Deployment] = []
        let expansion: [String?] = organizations?.map { Optional($0) } ?? [nil]
        for organization in expansion {
            var expanded = reader
            if let organization, let i = members.firstIndex(where: { $0.key == "organization" }) {
                var own = members
                own[i].value = .string(organization)
                expanded = MappingReader(members: own, path: paramsPath)
                expanded.origins = origins
            }
            // Warn once per entry, not once per organization.
            var entryWarnings: [ConfigWarning] = []
            let params = try LitellmParamsParser.parse(expanded, warnings: &entryWarnings)
            if deployments.isEmpty { warnings += entryWarnings }
            let id: String
            if let explicitID {
                id = organization.map { "\(explicitID)-\($0)" } ?? explicitID
            } else {
                id = DeploymentID.generate(baseText: baseText, organization: organization, index: idIndex)
            }
            deployments.append(Deployment(
                modelName: modelName, params: params, modelInfo: try ModelInfoParser.parse(info, id: id),
                missingVariables: needed))
        }
        return deployments
    }

    /// The credential's unset variables under the keys the deployment takes from it (those its
    /// own `params` leave absent or null).
    private func inheritedMissing(credentialPath: String, params: [JSONMember]) -> [MissingVariable] {
        let prefix = KeyPath.child(credentialPath, "credential_values") + "."
        return credentialMissing.filter { variable in
            guard variable.path.hasPrefix(prefix) else { return false }
            let rest = variable.path.dropFirst(prefix.count)
            let key = String(rest.prefix { $0 != "." && $0 != "[" })
            return params.first(where: { $0.key == key })?.value.isNull ?? true
        }
    }

    /// The organizations when `organization` is a list (one deployment each), else `nil`.
    private func organizationList(_ params: MappingReader) throws(ConfigError) -> [String]? {
        guard case .array(let items)? = params["organization"] else { return nil }
        let organizations = try ValueConversion.stringList(.array(items), at: params.path("organization"))
        guard !organizations.isEmpty else {
            throw ConfigError(path: params.path("organization"), message: "an organization list must not be empty")
        }
        for (i, organization) in organizations.enumerated() {
            let path = KeyPath.index(params.path("organization"), i)
            try HeaderSafety.check(organization, at: path)
            if organizations[..<i].contains(organization) {
                throw ConfigError(path: path, message: "organization \(ValueConversion.describe(.string(organization))) is listed twice")
            }
        }
        return organizations
    }
}
