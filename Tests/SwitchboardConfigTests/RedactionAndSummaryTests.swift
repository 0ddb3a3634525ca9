import OpenAIWire
import SwitchboardConfig
import XCTest

final class RedactionAndSummaryTests: XCTestCase {
    func testSecretKeys() {
        for key in ["api_key", "azure_ad_token", "aws_access_key_id", "aws_secret_access_key", "aws_session_token",
                    "aws_web_identity_token", "auth_token", "client_secret", "password", "redis_password",
                    "master_key", "vertex_credentials", "token", "langfuse_api_key", "webhook_secret",
                    "db_password", "aws_secret_key", "API_KEY"] {
            XCTAssertTrue(SecretRedaction.isSecretKey(key), key)
        }
        for key in ["bos_token", "eos_token", "max_tokens", "model", "api_base", "api_version", "key_alias", "tpm"] {
            XCTAssertFalse(SecretRedaction.isSecretKey(key), key)
        }
    }

    func testRedactDropsSecretsAtDepthAndMasksHeaders() {
        let members: [JSONMember] = [
            JSONMember("model", .string("azure/gpt-4o")),
            JSONMember("api_key", .string("sk-secret")),
            JSONMember("bos_token", .string("<s>")),
            JSONMember("max_tokens", .int(20)),
            JSONMember("custom_tokenizer", .object([
                JSONMember("identifier", .string("x")), JSONMember("auth_token", .string("hf-secret")),
            ])),
            JSONMember("list", .array([.object([JSONMember("client_secret", .string("cs")), JSONMember("ok", .int(1))])])),
            JSONMember("extra_headers", .object([
                JSONMember("Authorization", .string("Bearer sk")), JSONMember("api-key", .string("k")),
                JSONMember("X-Api-Key", .string("k")), JSONMember("Proxy-Authorization", .string("p")),
                JSONMember("X-Session-Token", .string("t")), JSONMember("X-Client-Secret", .string("s")),
                JSONMember("AI-Resource Group", .string("ishaan-resource")),
            ])),
            JSONMember("headers", .object([JSONMember("x-goog-api-key", .string("g")), JSONMember("X-Team", .string("blue"))])),
        ]
        let redacted = SecretRedaction.redact(members)
        XCTAssertEqual(redacted.keys, ["model", "bos_token", "max_tokens", "custom_tokenizer", "list", "extra_headers", "headers"])
        XCTAssertEqual(redacted["custom_tokenizer"], .object([JSONMember("identifier", .string("x"))]))
        XCTAssertEqual(redacted["list"], .array([.object([JSONMember("ok", .int(1))])]))
        let masked = JSONValue.string("<redacted>")
        XCTAssertEqual(redacted["extra_headers"], .object([
            JSONMember("Authorization", masked), JSONMember("api-key", masked), JSONMember("X-Api-Key", masked),
            JSONMember("Proxy-Authorization", masked), JSONMember("X-Session-Token", masked),
            JSONMember("X-Client-Secret", masked), JSONMember("AI-Resource Group", .string("ishaan-resource")),
        ]))
        XCTAssertEqual(redacted["headers"], .object([JSONMember("x-goog-api-key", masked), JSONMember("X-Team", .string("blue"))]))
    }

    func testRedactURLHidesUserInfoAndQueryValues() {
        let cases: [(String, String)] = [
            ("https://api.example.com/v1", "https://api.example.com/v1"),
            ("https://user:hunter2@h.example.com:8443/v1", "https://<redacted>@h.example.com:8443/v1"),
            ("http://only-user@h/v1", "http://<redacted>@h/v1"),
            ("https://h/openai?api-version=2024-02-01&sig=abc%2B&key=k&flag&", "https://h/openai?api-version=2024-02-01&sig=<redacted>&key=<redacted>&<redacted>&"),
            ("https://u:p@h/v1?token=t#frag", "https://<redacted>@h/v1?token=<redacted>#<redacted>"),
            ("https://h/path@not-userinfo", "https://h/path@not-userinfo"),
            ("u:p@h:1/v1", "<redacted>@h:1/v1"),
        ]
        for (url, shown) in cases {
            XCTAssertEqual(SecretRedaction.redactURL(url), shown, url)
        }
        let redacted = SecretRedaction.redact([JSONMember("api_base", .string("https://u:pw@h/v1?code=c"))])
        XCTAssertEqual(redacted["api_base"], .string("https://<redacted>@h/v1?code=<redacted>"))
    }

    func testSummaryListsGroupsAliasesAndWarningsWithoutSecrets() throws {
        let config = try load("""
            model_list:
              - model_name: gpt-4o
                litellm_params:
                  model: azure/gpt-4o-eu
                  api_base: https://user:hunter2@eu.example.com/openai?api-key=SECRETQUERY
                  api_key: os.environ/KEY
                  azure_ad_token: ad-SECRET
                  extra_headers: {Authorization: Bearer HEADERSECRET}
                  rpm: 6
                  tpm: 1000
              - model_name: gpt-4o
                litellm_params: {model: openai/gpt-4o, api_key: sk-LITERALSECRET}
              - model_name: local
                litellm_params: {model: ollama/mistral, api_base: your_ollama_api_base}
            router_settings:
              model_group_alias: {gpt-4: gpt-4o, secret-alias: {model: local, hidden: true}}
              redis_password: REDISSECRET
            general_settings:
              master_key: sk-MASTERSECRET
            """, environment: ["KEY": "sk-ENVSECRET"])
        let text = config.summary()
        for secret in ["hunter2", "SECRETQUERY", "ENVSECRET", "ad-SECRET", "HEADERSECRET", "LITERALSECRET",
                       "REDISSECRET", "MASTERSECRET"] {
            XCTAssertFalse(text.contains(secret), "summary shows \(secret):\n\(text)")
        }
        let ids = config.deployments.map(\.id)
        XCTAssertTrue(text.contains("3 deployments in 2 model groups"), text)
        XCTAssertTrue(text.contains("gpt-4o (2 deployments)"), text)
        XCTAssertTrue(text.contains("  - azure/gpt-4o-eu, api_base https://eu.example.com/openai, id \(ids[0]), rpm 6, tpm 1000"), text)
        XCTAssertTrue(text.contains("  - openai/gpt-4o, provider default api_base, id \(ids[1])\n"), text)
        XCTAssertTrue(text.contains("local (1 deployment)"), text)
        XCTAssertTrue(text.contains("Aliases:\n  gpt-4 -> gpt-4o\n  secret-alias -> local (hidden)"), text)
        XCTAssertTrue(text.contains("Warnings (1):\n  model_list[2].litellm_params.api_base: not an http(s) URL"), text)
        let groupsOrder = ["gpt-4o (", "local (", "Aliases:", "Warnings"].compactMap { text.range(of: $0)?.lowerBound }
        XCTAssertEqual(groupsOrder, groupsOrder.sorted())
        XCTAssertTrue(try load("model_list: [{model_name: a, litellm_params: {model: openai/a}}]").summary()
            .hasSuffix("No warnings.\n"))
    }
}
