import Synchronization

/// Settlements waiting to ride on the next admission's script call for their slot (the admit
/// script applies them before it decides), or to be sent together when none comes within the
/// settle delay: under load a call costs Redis one script call instead of two.
final class RedisSettlementQueue: Sendable {
    /// One settlement's keys (5) and arguments (9), as ``RedisScripts/settleFunction`` reads them.
    struct Entry: Sendable {
        let keys: [String]
        let args: [String]
    }

    /// Slot used when Redis is one server (any admission may carry any settlement).
    static let anySlot = -1
    private let state = Mutex<(bySlot: [Int: [Entry]], flushScheduled: Bool)>(([:], false))

    /// Queues `entry`; `true` when no flush is scheduled yet (the caller schedules one).
    func add(_ entry: Entry, slot: Int) -> Bool {
        state.withLock { s in
            s.bySlot[slot, default: []].append(entry)
            guard !s.flushScheduled else { return false }
            s.flushScheduled = true
            return true
        }
    }

    /// The settlements an admission on `slot` carries (removed from the queue).
    func take(slot: Int) -> [Entry] {
        state.withLock { s in
            guard let entries = s.bySlot[slot], !entries.isEmpty else { return [] }
            s.bySlot[slot] = []
            return entries
        }
    }

    /// Everything still queued, by slot (the flush); the next ``add(_:slot:)`` schedules again.
    func takeAll() -> [Int: [Entry]] {
        state.withLock { s in
            s.flushScheduled = false
            let all = s.bySlot.filter { !$0.value.isEmpty }
            s.bySlot = [:]
            return all
        }
    }

    /// The number of settlements queued.
    var count: Int { state.withLock { $0.bySlot.values.reduce(0) { $0 + $1.count } } }

    /// Script arguments for `entries`: their keys, and their number followed by their arguments.
    static func arguments(_ entries: [Entry], extraKeys: Int = 0, extraArgs: Int = 0) -> (keys: [String], args: [String]) {
        var keys: [String] = []
        var args: [String] = []
        keys.reserveCapacity(entries.count * 5 + extraKeys)
        args.reserveCapacity(1 + entries.count * 9 + extraArgs)
        args.append(String(entries.count))
        for e in entries {
            keys += e.keys
            args += e.args
        }
        return (keys, args)
    }
}
