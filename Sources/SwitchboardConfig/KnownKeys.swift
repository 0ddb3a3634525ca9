/// The keys the loader knows, per section. Unknown keys are warned about, never fatal.
enum KnownKeys {
    static let topLevel: Set<String> = [
        "model_list", "litellm_settings", "router_settings", "general_settings",
        "environment_variables", "credential_list",
    ]

    static let modelEntry: Set<String> = ["model_name", "litellm_params", "model_info"]

    static let credentialEntry: Set<String> = ["credential_name", "credential_values", "credential_info"]

    static let promptTemplate: Set<String> = [
        "initial_prompt_value", "roles", "final_prompt_value", "bos_token", "eos_token",
    ]

    /// `litellm_params` keys that configure the gateway or the provider, not the request:
    /// everything else lands in `LitellmParams.requestDefaults`.
    static let gatewayParams: Set<String> = promptTemplate.union([
        "model", "api_base", "api_key", "api_version", "azure_ad_token", "organization",
        "aws_region_name", "aws_access_key_id", "aws_secret_access_key", "aws_session_token",
        "extra_headers", "rpm", "tpm", "weight", "timeout", "stream_timeout", "max_retries",
        "mock_response", "litellm_credential_name",
        "custom_llm_provider", "input_cost_per_token", "output_cost_per_token",
        "input_cost_per_second", "output_cost_per_second", "region_name", "vertex_project",
        "vertex_location", "vertex_credentials", "tags", "max_parallel_requests",
        "use_in_pass_through", "use_litellm_proxy", "merge_reasoning_content_in_choices",
        "model_info", "litellm_trace_id", "configurable_clientside_auth_params", "api_type",
        "client_id", "client_secret", "tenant_id", "azure_username", "azure_password",
        "aws_role_name", "aws_session_name", "aws_profile_name", "aws_web_identity_token",
        "aws_bedrock_runtime_endpoint", "drop_params", "additional_drop_params", "headers",
        "num_retries", "stream",
    ])

    /// Accepted in any settings section: LiteLLM users put these in more than one place.
    static let commonSettings: Set<String> = [
        "cache", "cache_params", "json_logs", "turn_off_message_logging", "redact_user_api_key_info",
        "max_budget", "budget_duration", "callbacks", "service_callback", "request_timeout",
        "num_retries", "telemetry", "master_key", "database_url", "alerting", "alerting_threshold",
        "proxy_batch_write_at", "background_health_checks", "health_check_interval",
        "max_parallel_requests", "global_max_parallel_requests", "infer_model_from_keys",
        "allowed_routes", "public_routes", "optional_pre_call_checks", "enable_pre_call_checks",
        "routing_strategy_args", "provider_budget_config", "model_group_retry_policy", "retry_policy",
        "allowed_fails_policy", "default_litellm_params", "cache_responses", "redis_url",
        "max_request_body_bytes", "budget_exceeded_status_code", "timezone",
        "require_auth_for_metrics_endpoint", "set_verbose", "fallbacks", "context_window_fallbacks",
        "content_policy_fallbacks", "default_fallbacks", "allowed_fails", "cooldown_time",
    ]

    static let litellmSettings: Set<String> = commonSettings.union([
        "drop_params", "success_callback", "failure_callback", "modify_params", "ssl_verify",
        "ssl_certificate", "force_ipv4", "redact_messages_in_exceptions", "default_team_settings",
        "default_key_generate_params", "upperbound_key_generate_params", "default_internal_user_params",
        "max_internal_user_budget", "internal_user_budget_duration", "max_end_user_budget",
        "key_generation_settings", "enable_json_schema_validation", "enable_preview_features",
        "disable_end_user_cost_tracking", "disable_end_user_cost_tracking_prometheus_only",
        "return_response_headers", "callback_settings", "langfuse_default_tags",
        "public_model_groups", "public_model_groups_links", "disable_hf_tokenizer_download",
        "extra_spend_tag_headers", "prometheus_metrics_config", "api_base", "api_key", "api_version",
        "model_alias_map", "context_window_fallback_dict", "add_function_to_prompt",
        "enable_azure_ad_token_refresh", "s3_callback_params", "default_redis_batch_cache_expiry",
        "cache_kwargs", "user_header_name", "disable_token_counter", "use_client_credentials_pass_through_routing",
        "mcp_aliases", "guardrails", "default_max_internal_user_budget", "check_provider_endpoint",
    ])

    static let routerSettings: Set<String> = commonSettings.union([
        "routing_strategy", "model_group_alias", "timeout", "stream_timeout", "retry_after",
        "redis_host", "redis_port", "redis_password", "redis_db", "cache_kwargs", "caching_groups",
        "client_ttl", "default_max_parallel_requests", "polling_interval", "debug_level",
        "enable_tag_filtering", "tag_filtering_match_any", "disable_cooldowns", "assistants_config",
        "alerting_config", "router_general_settings", "model_group_affinity", "deployment_affinity_ttl",
        "default_priority", "max_fallbacks", "enable_health_check_routing", "ignore_invalid_deployments",
        "enforce_model_rate_limits", "redis_username", "redis_ssl", "redis_ssl_ca_certs", "redis_ssl_certfile", "redis_ssl_keyfile",
        "redis_ssl_cert_reqs", "redis_startup_nodes", "redis_cluster_nodes", "redis_timeout_ms", "redis_fail_closed",
    ])

    static let generalSettings: Set<String> = commonSettings.union([
        "database_connection_pool_limit", "database_connection_timeout", "database_args", "database_type",
        "disable_spend_logs", "store_model_in_db", "store_prompts_in_spend_logs", "disable_error_logs",
        "alerting_args", "alert_types", "alert_to_webhook_url", "health_check_details",
        "admin_only_routes", "allowed_ips", "enforce_user_param", "enable_jwt_auth", "litellm_jwtauth",
        "custom_auth", "custom_auth_settings", "custom_key_generate", "custom_sso", "allow_user_auth",
        "disable_master_key_return", "disable_retry_on_max_parallel_request_limit_error",
        "disable_reset_budget", "disable_adding_master_key_hash_to_db", "disable_prisma_schema_update",
        "use_redis_transaction_buffer", "use_shared_health_check", "forward_openai_org_id",
        "forward_client_headers_to_llm_api", "key_management_system", "key_management_settings",
        "use_google_kms", "use_azure_key_vault", "moderation_model", "otel", "spend_report_frequency",
        "ui_access_mode", "user_api_key_cache_ttl", "maximum_spend_logs_retention_period",
        "maximum_spend_logs_retention_interval", "service_account_settings", "pass_through_endpoints",
        "proxy_budget_rescheduler_min_time", "proxy_budget_rescheduler_max_time", "enable_oauth2_auth",
        "enable_oauth2_proxy_auth", "allow_requests_on_db_unavailable", "max_request_size_mb",
        "max_response_size_mb", "default_team_disabled", "supported_db_objects", "embedding_model",
        "disable_responses_id_security", "user_header_name", "mcp_servers", "control_plane_url",
    ])

    /// Callback names acted on (`prometheus`: `/metrics` is always on).
    static let callbacks: Set<String> = ["generic_api", "otel", "langfuse", "langfuse_otel", "prometheus"]

    /// `general_settings.alerting_args`: LiteLLM's (read or accepted) and Switchboard's own.
    static let alertingArgs: Set<String> = [
        "outage_alert_ttl", "minor_outage_alert_threshold", "alert_dedup_seconds",
        "daily_report_frequency", "report_check_interval", "budget_alert_ttl", "region_outage_alert_ttl",
        "major_outage_alert_threshold", "max_outage_alert_list_size", "log_to_console",
    ]
}
