import ArgumentParser

/// `switchboard`: an OpenAI-compatible LLM gateway configured by LiteLLM's `config.yaml`.
@main
struct SwitchboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard",
        abstract: "An OpenAI-compatible LLM gateway configured by a LiteLLM config.yaml.",
        subcommands: [Serve.self, Worker.self, CheckConfig.self],
        defaultSubcommand: Serve.self
    )
}
