/// Which input partitions this instance owns, and where each stands: assigned → restoring from the changelog →
/// restored, waiting for the batch that stores it → held (consumed); revoked → watched until another instance has
/// written its changelog → its state dropped; and whether this instance leads the group's model (it owns the
/// leader partition). A value type: events go in (assigned, revoked, restores finished, the restored batch stored,
/// a tick at time t, what a moved-away check found), actions come out, and the pipeline carries them out. It does
/// no I/O and reads no clock, so every path is tested without a broker.
struct PartitionOwnership {
    /// What the pipeline must do after an event.
    enum Action: Equatable {
        /// Start reading these partitions back from the changelog (they are held at the consumer meanwhile).
        case beginRestores([Int32])
        /// Stop reading these back: they were revoked while restoring.
        case cancelRestores([Int32])
        /// Commit the batch holding these restored partitions' customers and offsets now, before they resume.
        case storeRestored([Int32])
        /// Consume these partitions again, from their stored offsets.
        case resume([Int32])
        /// Read the changelog tails of these revoked partitions: has another instance written them since?
        case checkMovedAway([Int32])
        /// Delete what the store holds of these partitions: they belong to another instance now.
        case drop([Int32])
        /// This instance now owns the leader partition: it takes the lead of the group's model.
        case lead
        /// The leader partition was revoked: this instance follows the group's model.
        case follow
        /// Add this much wall time to `segmenter_restore_seconds`.
        case restoreSeconds(Double)
    }

    /// Where an assigned partition stands.
    enum Stage: Equatable {
        case restoring(since: ContinuousClock.Instant)
        /// Read back; waiting for the batch that stores it, then resumed.
        case restored
        case held
    }

    /// A revoked partition's state is watched for this long; after that it is kept (maybe it comes back).
    static let movedAwayWatch = Duration.seconds(600)
    /// How often the changelog tails of revoked partitions are read.
    static let movedAwayCheckInterval = Duration.seconds(2)

    /// Whether partitions restore from a changelog and are dropped once they moved away (`kafka.topics.changelog`).
    let changelog: Bool
    /// The input partition whose owner leads the group's model (nil: no model topic).
    let leaderPartition: Int32?
    private(set) var stages: [Int32: Stage] = [:]
    /// Revoked partitions whose state the store still holds, since when.
    private(set) var movedAway: [Int32: ContinuousClock.Instant] = [:]
    /// While any partition is restoring: when the restore time was last counted.
    private var restoreClock: ContinuousClock.Instant?
    private var nextMovedAwayCheck: ContinuousClock.Instant
    /// Set while leaving the group at shutdown: that revocation keeps the state for the next start.
    private(set) var closing = false

    init(changelog: Bool, leaderPartition: Int32?, now: ContinuousClock.Instant) {
        self.changelog = changelog
        self.leaderPartition = leaderPartition
        nextMovedAwayCheck = now
    }

    /// The partitions whose customers this instance may touch: assigned and neither restoring nor waiting to be
    /// stored (nil: all, without a changelog — the store then holds only what this instance consumed).
    var owned: Set<Int32>? {
        guard changelog else { return nil }
        return Set(stages.lazy.filter { $0.value == .held }.map(\.key))
    }

    /// Whether any partition is restoring or waiting for its restored state to be stored.
    var isRestoring: Bool { stages.values.contains { $0 != .held } }

    /// Partitions restored and waiting to be stored, for /readyz: they count as restoring with nothing left to read.
    var awaitingStore: [Int32] { stages.filter { $0.value == .restored }.map(\.key).sorted() }

    /// Partitions were assigned; `restoring` are those whose changelog is newer than the store (the pipeline read
    /// their tails).
    mutating func assigned(_ partitions: [Int32], restoring: Set<Int32>, now: ContinuousClock.Instant) -> [Action] {
        var actions: [Action] = []
        if let leaderPartition, partitions.contains(leaderPartition) { actions.append(.lead) }
        for partition in partitions {
            movedAway[partition] = nil
            stages[partition] = changelog && restoring.contains(partition) ? .restoring(since: now) : .held
        }
        let restores = partitions.filter { changelog && restoring.contains($0) }
        if !restores.isEmpty {
            actions.append(.beginRestores(restores))
            if restoreClock == nil { restoreClock = now }
        }
        return actions
    }

    /// Partitions were revoked (after the batch holding their messages was committed).
    mutating func revoked(_ partitions: [Int32], now: ContinuousClock.Instant) -> [Action] {
        var actions: [Action] = []
        if let leaderPartition, partitions.contains(leaderPartition) { actions.append(.follow) }
        let cancelled = partitions.filter {
            if case .restoring = stages[$0] { return true }
            return false
        }
        for partition in partitions {
            stages[partition] = nil
            // A revoked partition's state stays until its changelog shows another writer: a partition lost in a
            // broker outage and handed back must not be restored from scratch, and leaving the group at shutdown
            // keeps everything for the next start.
            if changelog, !closing { movedAway[partition] = now }
        }
        if !cancelled.isEmpty { actions.append(.cancelRestores(cancelled)) }
        actions += countRestoreTime(now: now)
        return actions
    }

    /// These partitions were read back completely; returns how long each took, and the action that stores them.
    mutating func restoresFinished(_ partitions: [Int32], now: ContinuousClock.Instant)
        -> (seconds: [Int32: Double], actions: [Action])
    {
        var seconds: [Int32: Double] = [:]
        var finished: [Int32] = []
        for partition in partitions {
            guard case .restoring(let since) = stages[partition] else { continue }
            seconds[partition] = (now - since).seconds
            stages[partition] = .restored
            finished.append(partition)
        }
        return (seconds, finished.isEmpty ? [] : [.storeRestored(finished)])
    }

    /// The batch holding the restored partitions has committed: they are consumed again.
    mutating func restoredStored() -> [Action] {
        let stored = awaitingStore
        guard !stored.isEmpty else { return [] }
        for partition in stored { stages[partition] = .held }
        return [.resume(stored)]
    }

    /// A loop step at `now`; `idle` when no batch is in flight (the moved-away checks read the changelog between
    /// batches, and not while restoring, whose reads share the changelog reader).
    mutating func tick(now: ContinuousClock.Instant, idle: Bool) -> [Action] {
        var actions = countRestoreTime(now: now)
        guard changelog, idle, !isRestoring, !movedAway.isEmpty, now >= nextMovedAwayCheck else { return actions }
        nextMovedAwayCheck = now + Self.movedAwayCheckInterval
        for (partition, since) in movedAway where now - since >= Self.movedAwayWatch { movedAway[partition] = nil }
        if !movedAway.isEmpty { actions.append(.checkMovedAway(movedAway.keys.sorted())) }
        return actions
    }

    /// A moved-away check found that another instance has written these partitions' changelogs since.
    mutating func writtenElsewhere(_ partitions: [Int32]) -> [Action] {
        let moved = partitions.filter { movedAway.removeValue(forKey: $0) != nil }
        return moved.isEmpty ? [] : [.drop(moved)]
    }

    /// Leaving the group at shutdown: what is revoked now is kept as it is, not watched.
    mutating func close() {
        closing = true
    }

    /// `segmenter_restore_seconds` is wall time during which at least one partition was restoring (partitions
    /// restore side by side, so their own durations would overlap).
    private mutating func countRestoreTime(now: ContinuousClock.Instant) -> [Action] {
        let since = restoreClock
        restoreClock = isRestoring ? now : nil
        guard let since else { return [] }
        return [.restoreSeconds((now - since).seconds)]
    }
}
