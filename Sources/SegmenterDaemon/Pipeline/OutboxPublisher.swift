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
    /// Kafka timestamps of the events that triggered changes not yet produced, by change event id.
    private var triggerTimestamps: [String: Int64] = [:]
    private let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    var isIdle: Bool { inFlight.isEmpty && failed.isEmpty }

    /// Remembers when the event behind a change (by the change's event id) reached Kafka.
    mutating func noteTrigger(eventID: String, kafkaTimestamp: Int64) {
        triggerTimestamps[eventID] = kafkaTimestamp
    }

    /// Queues every committed row not yet handed over — unless failed rows are waiting for their retry.
    mutating func publish(from store: any PipelineStore, to sink: any OutboxSink) throws {
        guard failed.isEmpty else { return }
        while true {
            let rows = try store.pendingOutbox(limit: Self.pageSize, afterID: queuedThrough)
            for row in rows where inFlight[UInt64(row.id)] == nil {
                try produce(row, to: sink)
            }
            if let last = rows.last { queuedThrough = last.id }
            if rows.count < Self.pageSize { break }
            try serviceDeliveries(from: sink, wait: .zero, now: .now, wallClock: Pipeline.wallClock())
            guard failed.isEmpty else { return }
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
        for row in rows { try produce(row, to: sink) }
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

    private mutating func produce(_ row: OutboxRow, to sink: any OutboxSink) throws {
        let message = row.message
        try sink.produce(
            topic: message.topic, key: message.key, value: message.payload,
            headers: message.headers.map { KafkaHeader(key: $0.0, value: $0.1) }, token: UInt64(row.id))
        inFlight[UInt64(row.id)] = triggerTimestamps.removeValue(forKey: message.eventID)
    }
}
