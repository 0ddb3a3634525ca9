import Metrics
import State
import Synchronization

/// Writes this worker's gauges (calls in flight; per deployment: in flight, rpm/tpm used and
/// their limits, cooldown state) into its shared slot. Run every second off the request path
/// and again just before a scrape renders, so the scraping worker's own figures are current
/// and the others' are at most a second old.
final class MetricsGauges: Sendable {
    private let store: any StateStore
    private let inFlight: Series?
    private let perDeployment: [DeploymentGauges]
    /// One publication at a time (the timer and a scrape may meet).
    private let lock = Mutex(())

    struct DeploymentGauges: @unchecked Sendable {
        var inFlight, rpm, tpm, state: Series?
    }

    init(slot: MetricsSlot, labels: [DeploymentMetricLabels], limits: [(rpm: Int?, tpm: Int?)], store: any StateStore) {
        self.store = store
        inFlight = slot.series(Families.inFlight, [])
        var list: [DeploymentGauges] = []
        for (n, d) in labels.enumerated() {
            let labels = [d.modelName, d.model, d.id, d.apiBase, d.provider]
            list.append(DeploymentGauges(
                inFlight: slot.series(Families.deploymentInFlight, labels), rpm: slot.series(Families.rpmUsed, labels),
                tpm: slot.series(Families.tpmUsed, labels), state: slot.series(Families.state, labels)))
            if let rpm = limits[n].rpm { slot.series(Families.rpmLimit, labels)?.set(Int64(rpm)) }
            if let tpm = limits[n].tpm { slot.series(Families.tpmLimit, labels)?.set(Int64(tpm)) }
        }
        perDeployment = list
    }

    /// Reads the state store and the in-flight count and stores them.
    func publish(inFlightCalls: Int) {
        lock.withLock { _ in
            inFlight?.set(Int64(inFlightCalls))
            guard !perDeployment.isEmpty else { return }
            let loads = store.loads(Array(perDeployment.indices))
            for (n, load) in loads.enumerated() where n < perDeployment.count {
                let g = perDeployment[n]
                g.inFlight?.set(Int64(load.inFlight))
                g.rpm?.set(Int64(load.requestsThisMinute))
                g.tpm?.set(Int64(load.tokensThisMinute))
                g.state?.set(load.coolingDown ? 2 : 0)
            }
        }
    }
}
