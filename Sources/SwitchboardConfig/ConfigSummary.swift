public extension GatewayConfig {
    /// The human-readable overview `switchboard check-config` prints: each model group with its
    /// deployments (model, api_base or provider default, id, rpm/tpm when set), the aliases, then
    /// the warnings. Never shows a secret: keys and tokens are left out, and URLs lose their
    /// user-info and query.
    func summary() -> String {
        var lines: [String] = []
        let groups = modelNames
        lines.append("\(deployments.count) deployment\(deployments.count == 1 ? "" : "s") in "
            + "\(groups.count) model group\(groups.count == 1 ? "" : "s"); "
            + "routing strategy \(routerSettings.routingStrategy)")
        for group in groups {
            let members = deployments.filter { $0.modelName == group }
            lines.append("")
            lines.append("\(group) (\(members.count) deployment\(members.count == 1 ? "" : "s"))")
            for deployment in members {
                lines.append("  - " + Self.describe(deployment))
            }
        }
        if !routerSettings.modelGroupAlias.isEmpty {
            lines.append("")
            lines.append("Aliases:")
            for (alias, target) in routerSettings.modelGroupAlias {
                lines.append("  \(alias) -> \(target.model)\(target.hidden ? " (hidden)" : "")")
            }
        }
        var names: [String] = []
        for variable in missingVariables where !names.contains(variable.name) { names.append(variable.name) }
        if !names.isEmpty {
            lines.append("")
            lines.append("Environment variables not set (\(names.count)); calls to the deployments that need them fail:")
            for name in names {
                let paths = missingVariables.filter { $0.name == name }.map(\.path)
                lines.append("  \(name): \(paths.joined(separator: ", "))")
            }
        }
        // The missing variables are listed above; their warnings would only repeat them.
        let shown = warnings.filter { warning in
            !(warning.message.hasPrefix("environment variable ") && missingVariables.contains { $0.path == warning.path })
        }
        lines.append("")
        if shown.isEmpty {
            lines.append("No warnings.")
        } else {
            lines.append("Warnings (\(shown.count)):")
            lines += shown.map { "  \($0)" }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func describe(_ deployment: Deployment) -> String {
        let params = deployment.params
        var parts = [params.model]
        parts.append(params.apiBase.map { "api_base \(sanitizedURL($0))" } ?? "provider default api_base")
        if let organization = params.organization { parts.append("organization \(organization)") }
        parts.append("id \(deployment.id)")
        if let rpm = params.rpm { parts.append("rpm \(rpm)") }
        if let tpm = params.tpm { parts.append("tpm \(tpm)") }
        if let credential = params.credentialName { parts.append("credential \(credential)") }
        if !deployment.missingVariables.isEmpty {
            var names: [String] = []
            for variable in deployment.missingVariables where !names.contains(variable.name) { names.append(variable.name) }
            parts.append("NOT CALLABLE: needs \(names.joined(separator: ", "))")
        }
        return parts.joined(separator: ", ")
    }

    /// `url` without user-info (`user:pass@`) and without its query, which may hold keys.
    internal static func sanitizedURL(_ url: String) -> String {
        var text = Substring(url)
        if let query = text.firstIndex(where: { $0 == "?" || $0 == "#" }) { text = text[..<query] }
        if let scheme = text.range(of: "://") {
            let authorityEnd = text[scheme.upperBound...].firstIndex(of: "/") ?? text.endIndex
            if let at = text[scheme.upperBound..<authorityEnd].lastIndex(of: "@") {
                text = text[..<scheme.upperBound] + text[text.index(after: at)...]
            }
        }
        return String(text)
    }
}
