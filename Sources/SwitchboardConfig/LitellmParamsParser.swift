import OpenAIWire

/// Reads one deployment's `litellm_params` (resolved, credential values merged, organization a
/// single value) into `LitellmParams`. Unknown keys are request defaults, never warned about.
enum LitellmParamsParser {
    static func parse(_ p: MappingReader, warnings: inout [ConfigWarning]) throws(ConfigError) -> LitellmParams {
        var params = LitellmParams(model: try p.requiredString("model"))
        params.apiBase = try p.string("api_base")
        params.apiKey = try p.string("api_key")
        params.apiVersion = try p.string("api_version")
        params.azureAdToken = try p.string("azure_ad_token")
        params.organization = try p.string("organization")
        params.awsRegionName = try p.string("aws_region_name")
        params.awsAccessKeyId = try p.string("aws_access_key_id")
        params.awsSecretAccessKey = try p.string("aws_secret_access_key")
        params.awsSessionToken = try p.string("aws_session_token")
        params.extraHeaders = try headers(p, "extra_headers")
        params.rpm = try p.int("rpm", minimum: 0)
        params.tpm = try p.int("tpm", minimum: 0)
        params.weight = try p.double("weight", minimum: 0)
        params.timeout = try p.seconds("timeout")
        params.streamTimeout = try p.seconds("stream_timeout")
        params.maxRetries = try p.int("max_retries", minimum: 0)
        params.mockResponse = p["mock_response"]
        params.promptTemplate = try promptTemplate(p)
        params.credentialName = try p.string("litellm_credential_name")
        params.requestDefaults = p.members.filter { !KnownKeys.gatewayParams.contains($0.key) }
        params.all = p.members

        for key in HeaderSafety.headerParams {
            try HeaderSafety.check(try p.string(key), at: p.path(key))
        }
        if let base = params.apiBase {
            try HeaderSafety.checkURL(base, at: p.path("api_base"))
            if !isHTTPURL(base) {
                warnings.append(ConfigWarning(
                    path: p.path("api_base"),
                    message: "not an http(s) URL (\(ValueConversion.describe(.string(SecretRedaction.redactURL(base))))); "
                        + "requests to it will fail"))
            }
        }
        return params
    }

    /// `extra_headers` as (name, value) pairs in file order; values are stringified.
    private static func headers(_ p: MappingReader, _ key: String) throws(ConfigError) -> [(name: String, value: String)] {
        guard let members = try p.mapping(key) else { return [] }
        var out: [(name: String, value: String)] = []
        for member in members {
            let path = KeyPath.child(p.path(key), member.key)
            try HeaderSafety.checkName(member.key, at: path)
            let value = try ValueConversion.environmentString(member.value, at: path)
            try HeaderSafety.check(value, at: path)
            out.append((member.key, value))
        }
        return out
    }

    private static func promptTemplate(_ p: MappingReader) throws(ConfigError) -> PromptTemplate? {
        guard KnownKeys.promptTemplate.contains(where: p.has) else { return nil }
        var template = PromptTemplate(
            initialPromptValue: try p.string("initial_prompt_value") ?? "",
            finalPromptValue: try p.string("final_prompt_value") ?? "",
            bosToken: try p.string("bos_token") ?? "",
            eosToken: try p.string("eos_token") ?? "")
        if let roles = try p.reader("roles") {
            for member in roles.members {
                let role = try MappingReader(member.value, path: roles.path(member.key))
                template.roles[member.key] = PromptTemplate.Role(
                    preMessage: try role.string("pre_message") ?? "",
                    postMessage: try role.string("post_message") ?? "")
            }
        }
        return template
    }

    static func isHTTPURL(_ text: String) -> Bool {
        let lower = text.lowercased()
        for scheme in ["http://", "https://"] where lower.hasPrefix(scheme) {
            return lower.count > scheme.count
        }
        return false
    }
}
