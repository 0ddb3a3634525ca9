/// The built-in demo configuration, served when no config is given. Same text as
/// `deploy/demo-config.yaml` (a test keeps the two equal).
public enum DemoConfig {
    public static let yaml = #"""
# Switchboard's demo config: answers from mock_response, so it needs no network, no keys and no Redis.
# `switchboard` with no --config serves exactly this file (it is built into the binary).
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      mock_response: "Hello from Switchboard! This answer is a mock_response from the demo config."
      rpm: 600
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o-mini
      mock_response: "Hello from the second gpt-4o deployment of the demo config."
      rpm: 300
  - model_name: text-embedding-3-small
    litellm_params:
      model: openai/text-embedding-3-small
      mock_response: [0.011, -0.022, 0.033, -0.044]

router_settings:
  routing_strategy: simple-shuffle
  model_group_alias: {"gpt-4": "gpt-4o"}

litellm_settings:
  drop_params: True
"""#
}
