import ArgumentParser
import Foundation
import Logging
import Server

/// `switchboard`: an OpenAI-compatible LLM gateway configured by a LiteLLM `config.yaml`.
@main
struct SwitchboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard",
        abstract: "An OpenAI-compatible LLM gateway configured by a LiteLLM config.yaml.",
        subcommands: [Serve.self, Worker.self, CheckConfig.self, BenchRouter.self, BenchCallbacks.self, BenchTokenizer.self, CountTokens.self],
        defaultSubcommand: Serve.self
    )
}

/// Logs to standard error, at debug level with `--detailed_debug`; as JSON lines with
/// `JSON_LOGS=True` (or, once the config is read, `litellm_settings.json_logs: true`).
func bootstrapLogging(debug: Bool) {
    if ObservabilitySettings.truthy(ProcessInfo.processInfo.environment["JSON_LOGS"]) { LogFormat.isJSON = true }
    LoggingSystem.bootstrap { label in
        SwitchableLogHandler(label: label, level: debug ? .debug : .info)
    }
}
