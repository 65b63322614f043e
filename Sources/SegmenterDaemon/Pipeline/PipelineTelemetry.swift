import Logging
import SegmenterCore
import SegmenterKafka

/// What the pipeline counts, and the one place where those counts reach the ``PipelineStatusBoard`` (which
/// `/metrics`, `/readyz` and the console read). Counts go in as they happen; a batch's counts are set aside when it
/// is handed to the committer and published once it has committed, so the board never shows what a failed
/// transaction would take back. Owned by the pipeline thread.
struct PipelineTelemetry {
    let status: PipelineStatusBoard
    private let logger: Logger
    private var counts = Counts()
    /// The counts of the batch being committed, published once it has.
    private var committing: BatchCounts?
    /// When start-up reached each step, for the one log line that tells restart time apart from the group join.
    private var startup = Startup()
    private var lastRefresh = ContinuousClock.now - .seconds(10)

    /// What happened since the last batch was handed over.
    private struct Counts {
        var invalid: [String: Int64] = [:]
        /// Well-formed messages that are not behaviour (e.g. Segment `identify`), by code.
        var skipped: [String: Int64] = [:]
        var duplicates: Int64 = 0
        var changes: Int64 = 0
        var transitions: [SegmentTransition: Int64] = [:]
        var recent: [PipelineStatus.RecentChange] = []
        var audiences = AudienceCounts()
    }

    /// A handed-over batch's counts, and the model as it left it.
    private struct BatchCounts {
        var counts: Counts
        var sizes: [Int: Int64]
        var byPartition: [TopicPartition: Int64]
        var engine: SegmentationEngine.Counters
        var names: [Int: String]
        var version: Int64
        var inertia: Double
        var drift: Double
        var frozen: Bool
        var clamped: (UInt64, UInt64)
    }

    private struct Startup {
        var opening = ContinuousClock.now
        var subscribed: ContinuousClock.Instant?
        var assigned: ContinuousClock.Instant?
        var reported = false
    }

    /// Segment sizes as the store holds them, moved by every change since it was read.
    private(set) var sizes: [Int: Int64]

    init(status: PipelineStatusBoard, logger: Logger, sizes: [Int: Int64]) {
        self.status = status
        self.logger = logger
        self.sizes = sizes
    }

    // MARK: counting

    mutating func invalid(_ code: String) { counts.invalid[code, default: 0] += 1 }

    mutating func skipped(_ code: String) { counts.skipped[code, default: 0] += 1 }

    mutating func duplicate() { counts.duplicates += 1 }

    mutating func change(_ change: SegmentChange) {
        counts.changes += 1
        counts.transitions[SegmentTransition(from: change.previous?.id, to: change.segment?.id), default: 0] += 1
        if let previous = change.previous { sizes[previous.id, default: 0] -= 1 }
        if let segment = change.segment { sizes[segment.id, default: 0] += 1 }
        counts.recent.append(.init(
            customerID: change.customerID, from: change.previous?.name, to: change.segment?.name ?? "—",
            cause: change.cause.rawValue, at: change.at))
        if counts.recent.count > 20 { counts.recent.removeFirst(counts.recent.count - 20) }
    }

    mutating func audienceChange(_ change: AudienceChange) { counts.audiences.count(change) }

    /// Segment sizes read again from the store (after partitions were restored or dropped).
    mutating func resetSizes(_ sizes: [Int: Int64]) { self.sizes = sizes }

    // MARK: batches

    /// The batch is handed to the committer: its counts wait for its commit.
    mutating func batchHandedOver(
        byPartition: [TopicPartition: Int64], engine: SegmentationEngine.Counters, segmentation: Segmentation
    ) {
        committing = BatchCounts(
            counts: counts, sizes: sizes, byPartition: byPartition, engine: engine, names: segmentation.names,
            version: segmentation.version, inertia: segmentation.kmeans.inertia, drift: segmentation.driftPerHour,
            frozen: segmentation.frozen, clamped: (segmentation.clampedAhead, segmentation.clampedBehind))
        counts = Counts()
    }

    /// The batch in flight has committed: its counts reach the board. `latencies` are the event → change seconds of
    /// the changes delivered since.
    mutating func batchCommitted(commitSeconds: Double?, latencies: @autoclosure () -> [Double]) {
        guard let batch = committing else { return }
        committing = nil
        publish(batch, commitSeconds: commitSeconds, latencies: latencies())
        if !startup.reported, !batch.byPartition.isEmpty { reportStartup() }
    }

    private func publish(_ batch: BatchCounts, commitSeconds: Double?, latencies: [Double]) {
        let counts = batch.counts
        status.update { s in
            (s.eventsClampedAhead, s.eventsClampedBehind) = batch.clamped
            for (partition, n) in batch.byPartition {
                s.eventsByPartition[partition, default: 0] += n
                s.eventsTotal += n
            }
            for (reason, n) in counts.invalid { s.invalidByReason[reason, default: 0] += n }
            for (reason, n) in counts.skipped { s.skippedByReason[reason, default: 0] += n }
            for (transition, n) in counts.transitions { s.changesByTransition[transition, default: 0] += n }
            s.duplicates += counts.duplicates
            s.changesTotal += counts.changes
            s.segmentSizes = batch.sizes
            s.segmentNames = batch.names
            s.modelVersion = batch.version
            s.inertia = batch.inertia
            s.driftPerHour = batch.drift
            s.frozen = batch.frozen
            s.reevaluatedTotal += batch.engine.reevaluated
            s.reevaluationPasses += batch.engine.reevaluationPasses
            // The latest changes stay until newer ones replace them (a batch without changes keeps the list).
            s.recentChanges = Array((s.recentChanges + counts.recent).suffix(20))
            s.audiences.fold(counts.audiences)
            s.eventToChangeSecondsSamples.append(contentsOf: latencies)
            if let commitSeconds {
                s.batches += 1
                s.lastBatchCommitSeconds = commitSeconds
                s.commitSecondsSamples.append(commitSeconds)
            }
        }
    }

    // MARK: between batches

    /// Whether a second has passed since the board's Kafka and outbox figures were last brought up to date.
    mutating func refreshDue(now: ContinuousClock.Instant) -> Bool {
        guard now - lastRefresh >= .seconds(1) else { return false }
        lastRefresh = now
        return true
    }

    /// The figures read once a second, batches or not.
    func refresh(
        brokers: BrokerHealth?, lag: [TopicPartition: Int64], assigned: [TopicPartition], outboxPending: Int64,
        kafkaErrors: [KafkaError.Code: Int64]
    ) {
        status.update { s in
            s.kafkaBrokers = brokers
            s.lagByPartition = lag
            s.assignedPartitions = assigned
            s.outboxPending = outboxPending
            for (code, n) in kafkaErrors { s.kafkaErrorsByCode[code, default: 0] += n }
        }
    }

    mutating func subscribed() { startup.subscribed = .now }

    mutating func assigned() {
        if startup.assigned == nil { startup.assigned = .now }
    }

    /// Logs how long the first batch of events took to commit after the store was opened, and how much of that
    /// was the consumer group's join (the broker's part, not ours).
    private mutating func reportStartup() {
        startup.reported = true
        var join = "unknown"
        if let subscribed = startup.subscribed, let assigned = startup.assigned {
            join = "\((assigned - subscribed).seconds)"
        }
        logger.info("first batch committed", metadata: [
            "startup.first_commit_s": "\((ContinuousClock.now - startup.opening).seconds)",
            "startup.group_join_s": "\(join)",
        ])
    }
}
