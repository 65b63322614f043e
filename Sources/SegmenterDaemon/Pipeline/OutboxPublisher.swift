import Logging
import SegmenterKafka
import SegmenterStore

/// Hands committed outbox rows to the producer and tracks each until its delivery report: delivered rows are
/// deleted with the next batch, failed rows are retried with exponential backoff. Every row is in exactly one
/// place — not yet queued, in flight, failed (waiting for its retry), or delivered — so no row is sent twice by
/// this process, and none is forgotten. While failed rows wait, new rows wait behind them in the store (the
/// backlog shows as `segmenter_outbox_pending`): a later change for a customer never overtakes an earlier one.
/// After a crash the next process starts from the store and re-sends every undelivered row (at-least-once; ids
/// are deterministic).
///
/// While nothing waits in the store, a committed batch is produced from the batch's own memory with the row ids
/// the insert returned (``publish(committed:ids:triggers:to:)``): the store is read only to catch up — after a
/// start, or once failed rows have been re-sent.
struct OutboxPublisher {
    static let pageSize = 5_000
    static let firstRetryDelay: Duration = .milliseconds(500)
    static let maximumRetryDelay: Duration = .seconds(30)

    /// Highest row id handed to the producer in id order.
    private(set) var queuedThrough: Int64 = 0
    /// Delivery token (row id) → the triggering event's Kafka timestamp, for the latency histogram.
    private(set) var inFlight: [UInt64: Int64?] = [:]
    /// Rows whose delivery failed, waiting for ``retryAfter``.
    private(set) var failed: Set<Int64> = []
    private(set) var retryAfter: ContinuousClock.Instant?
    private(set) var retryDelay = firstRetryDelay
    /// Delivered since the last commit: deleted in the next batch.
    private(set) var delivered: [Int64] = []
    /// Event → change delivered, seconds, since the last ``takeLatencies()``.
    private var latencies: [Double] = []
    /// True while committed rows may wait in the store that were never handed over: from the start until a page
    /// through the store reaches its end, and again when rows are committed while failed rows wait.
    private(set) var behind = true
    private let logger: Logger
    /// Topics whose rows go to the partition stored with them (the changelog: partition n holds the state of input
    /// partition n) rather than to the partitioner's choice.
    private let fixedPartitionTopics: Set<String>

    init(logger: Logger, fixedPartitionTopics: Set<String> = []) {
        self.logger = logger
        self.fixedPartitionTopics = fixedPartitionTopics
    }

    var isIdle: Bool { inFlight.isEmpty && failed.isEmpty }

    /// Queues every committed row not yet handed over — unless failed rows are waiting for their retry.
    mutating func publish(from store: any PipelineStore, to sink: any OutboxSink) throws {
        guard failed.isEmpty else { return }
        while true {
            let rows = try store.pendingOutbox(limit: Self.pageSize, afterID: queuedThrough)
            for row in rows where inFlight[UInt64(row.id)] == nil {
                try produce(row.message, id: row.id, trigger: nil, to: sink)
            }
            if let last = rows.last { queuedThrough = last.id }
            if rows.count < Self.pageSize { break }
            try serviceDeliveries(from: sink, wait: .zero, now: .now, wallClock: Pipeline.wallClock())
            guard failed.isEmpty else { return }
        }
        behind = false
    }

    /// Queues the rows of a batch just committed: `messages` with the row `ids` the commit returned (nil: ignored
    /// as a duplicate of a row already there) and the Kafka timestamp of each change's triggering event. Produced
    /// from memory when nothing older waits; otherwise from the store, in id order, behind what waits.
    mutating func publish(
        committed messages: [OutboxMessage], ids: [Int64?], triggers: [Int64?], to sink: any OutboxSink,
        store: any PipelineStore
    ) throws {
        guard !behind, failed.isEmpty else {
            behind = true
            try publish(from: store, to: sink)
            return
        }
        for (index, message) in messages.enumerated() {
            guard let id = ids[index], id > queuedThrough else { continue }
            try produce(message, id: id, trigger: index < triggers.count ? triggers[index] : nil, to: sink)
            queuedThrough = id
        }
    }

    /// Re-sends the failed rows once their backoff has passed; then the queue moves on.
    mutating func retryIfDue(from store: any PipelineStore, to sink: any OutboxSink, now: ContinuousClock.Instant)
        throws
    {
        guard let retryAfter, now >= retryAfter else { return }
        self.retryAfter = nil
        let rows = try store.outboxRows(ids: Array(failed))
        failed.removeAll()
        logger.info("re-sending outbox rows after failed deliveries", metadata: [
            "outbox.rows": "\(rows.count)", "outbox.retry_delay_s": "\(retryDelay.seconds)",
        ])
        for row in rows { try produce(row.message, id: row.id, trigger: nil, to: sink) }
    }

    /// Collects delivery reports, waiting up to `wait` for the first.
    mutating func serviceDeliveries(
        from sink: any OutboxSink, wait: Duration, now: ContinuousClock.Instant, wallClock: Int64
    ) throws {
        var failures = 0
        var firstError: KafkaError?
        for report in sink.pollDeliveries(timeout: wait) {
            guard let trigger = inFlight.removeValue(forKey: report.token) else { continue }
            if let error = report.error {
                failures += 1
                firstError = firstError ?? error
                failed.insert(Int64(report.token))
                continue
            }
            delivered.append(Int64(report.token))
            if let trigger { latencies.append(Double(max(0, wallClock - trigger)) / 1000) }
        }
        if let firstError {
            if retryAfter == nil {
                retryAfter = now + retryDelay
                retryDelay = min(retryDelay * 2, Self.maximumRetryDelay)
            }
            logger.warning("outbox deliveries failed; they are retried with backoff", metadata: [
                "outbox.failed": "\(failures)", "kafka.topic": "\(firstError.topicPartition?.topic ?? "")",
                "error": "\(firstError.message)",
            ])
        } else if failed.isEmpty, retryAfter == nil, !delivered.isEmpty {
            retryDelay = Self.firstRetryDelay
        }
    }

    /// The delivered rows to delete in the batch being committed.
    mutating func takeDelivered() -> [Int64] {
        defer { delivered.removeAll(keepingCapacity: true) }
        return delivered
    }

    mutating func takeLatencies() -> [Double] {
        defer { latencies.removeAll(keepingCapacity: true) }
        return latencies
    }

    private mutating func produce(_ message: OutboxMessage, id: Int64, trigger: Int64?, to sink: any OutboxSink)
        throws
    {
        try sink.produce(
            topic: message.topic, partition: fixedPartitionTopics.contains(message.topic) ? message.partition : nil,
            key: message.key, value: message.payload,
            headers: message.headers.map { KafkaHeader(key: $0.0, value: $0.1) }, token: UInt64(id))
        inFlight[UInt64(id)] = trigger
    }
}
