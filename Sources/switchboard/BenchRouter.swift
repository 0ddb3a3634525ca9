import ArgumentParser
import Foundation
import Routing
import State
import Callbacks
import SwitchboardConfig

/// `switchboard bench-router`: what the router's pick costs per request (rank the group by the
/// strategy, admit against rpm/tpm and cooldowns, settle), with no network. Build with
/// `-c release` for figures that mean something.
struct BenchRouter: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-router",
        abstract: "Measure the router's pick (rank, admit with limits and cooldowns, settle) per request.")

    @Option(help: "Deployments in the model group.")
    var deployments = 50

    @Option(help: "Picks per strategy.")
    var picks = 200_000

    func run() throws {
        var config = GatewayConfig(deployments: (0..<deployments).map { i in
            var p = LitellmParams(model: "openai/m\(i)")
            p.rpm = 1_000_000_000
            p.tpm = 1_000_000_000_000
            return Deployment(modelName: "group", params: p, modelInfo: ModelInfo(id: "d\(i)"))
        })
        config.routerSettings.allowedFails = 3
        let router = ModelRouter(config: config)
        let group = router.resolve("group")!
        print("router pick with \(deployments) deployments in the group, rpm/tpm limits and cooldowns on, \(picks) picks:")
        for strategy in [RoutingStrategy.simpleShuffle, .leastBusy, .usageBased, .latencyBased] {
            let store = EmbeddedStateStore(
                deployments: router.deploymentsBySlot.map { DeploymentLimits(id: $0.id, rpm: $0.params.rpm, tpm: $0.params.tpm) },
                cooldown: CooldownPolicy(allowedFails: 3, cooldownSeconds: 5))
            let ranking = CandidateRanking(strategy: strategy)
            var rng = FastRandom(seed: 42)
            var admitted = 0
            let clock = ContinuousClock()
            let elapsed = clock.measure {
                for _ in 0..<picks {
                    let order = ranking.rank(group, store: store, stream: false, avoid: [], using: &rng)
                    guard case .admitted(let r)? = store.admitNow(Admission(candidates: order, tokens: 100, enforceLimits: true)) else { continue }
                    admitted += 1
                    store.settle(Settlement(reservation: r, actualTokens: 90, outcome: .success, latencyMilliseconds: 1))
                }
            }
            let ns = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
            print("  \(strategy.rawValue): \(String(format: "%.2f", ns / Double(picks) / 1000)) µs per pick (\(admitted) admitted)")
        }
    }
}

/// `switchboard bench-callbacks`: what encoding one finished call costs each call-logging
/// callback (otel, langfuse, generic_api), with no network. Build with `-c release`.
struct BenchCallbacks: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-callbacks", abstract: "Measure encoding a finished call for each call-logging callback.")

    @Option(help: "Calls per format.")
    var calls = 2_000_000

    @Option(help: "Only the formats whose name contains this.")
    var only = ""

    func run() throws {
        // bench/run's deployment (its id is derived from its parameters, as the bench's is).
        let config = try ConfigLoader(environment: [:], exportsEnvironmentVariables: false).load(yaml: """
            model_list:
              - model_name: bench-model
                litellm_params: {model: openai/bench-model, api_base: "http://127.0.0.1:31650/v1", api_key: sk-bench}
            """)
        for line in CallLogBenchmark.run(config: config, calls: calls, only: only) { print(line) }
    }
}
