#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One worker process as the supervisor tracks it.
struct WorkerRecord {
    let id: Int
    let pid: pid_t
    let generation: Int
    let slot: Int
    let link: WorkerLink
    let started: ContinuousClock.Instant
    /// Its slot of the shared metrics region (`nil`: none was free).
    let metricsSlot: Int?
    /// Reported `ready`: serving.
    var ready = false
    /// Told to stop accepting and drain (a reload retired its generation, or shutdown).
    var retiring = false
}

/// Workers started from one validated config. A reload makes a new generation; the old one is
/// retired once the new one is ready. Each generation has `count` slots; a crashed worker is
/// replaced in its slot, with the slot's own backoff.
final class Generation {
    let number: Int
    let config: ValidatedConfig
    let snapshot: ConfigSnapshot
    /// The secret manager's values for this generation's workers (`nil`: the config names none).
    let secrets: SecretHandoff?
    let count: Int
    /// Worker id in each slot (absent while a slot waits for a restart).
    var slots: [Int: Int] = [:]
    var backoff: [Int: RestartBackoff] = [:]

    /// Writes the config snapshot and the secret hand-off.
    init(number: Int, config: ValidatedConfig, count: Int) throws(SupervisorError) {
        self.number = number
        self.config = config
        self.snapshot = try ConfigSnapshot(text: config.text)
        self.secrets = try config.secrets.map { bytes throws(SupervisorError) in try SecretHandoff(bytes: bytes) }
        self.count = count
    }

    /// The model groups added, removed and changed from `old` to this generation, for the log.
    func modelChanges(from old: Generation) -> String {
        let before = old.config.fingerprints
        let after = config.fingerprints
        let added = config.modelNames.filter { before[$0] == nil }
        let removed = old.config.modelNames.filter { after[$0] == nil }
        let changed = config.modelNames.filter { before[$0] != nil && before[$0] != after[$0] }
        func list(_ names: [String]) -> String { names.isEmpty ? "none" : names.joined(separator: ", ") }
        return "models added: \(list(added)); removed: \(list(removed)); changed: \(list(changed))"
    }
}

/// A `waitpid` status in words: `exit status 1`, `killed by SIGKILL`.
func describeExit(_ status: Int32) -> String {
    let signal = status & 0x7f
    if signal == 0 { return "exit status \((status >> 8) & 0xff)" }
    return "killed by \(SignalEvents.name(signal))"
}
