import ArgumentParser
import Logging

/// `switchboard`: an OpenAI-compatible LLM gateway configured by a LiteLLM `config.yaml`.
@main
struct SwitchboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard",
        abstract: "An OpenAI-compatible LLM gateway configured by a LiteLLM config.yaml.",
        subcommands: [Serve.self, Worker.self, CheckConfig.self, BenchRouter.self],
        defaultSubcommand: Serve.self
    )
}

/// Logs to standard error, at debug level with `--detailed_debug`.
func bootstrapLogging(debug: Bool) {
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = debug ? .debug : .info
        return handler
    }
}
