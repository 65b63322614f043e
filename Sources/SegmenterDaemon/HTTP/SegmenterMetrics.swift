import Foundation
import Prometheus
import SegmenterCore
import SegmenterKafka
import Synchronization

/// The daemon's Prometheus metrics. Pull-based: the pipeline only updates its ``PipelineStatusBoard`` once per
/// batch, and each scrape folds the board into the registry here, so metrics cost nothing per event. Names follow
/// Prometheus conventions (units in names, `_total` for counters); `segmenter_consumer_lag` has one series per
/// assigned partition and loses it when the partition is revoked.
public final class SegmenterMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let state = Mutex(Seen())
    private let status: PipelineStatusBoard
    private let readyMaxLag: Int

    private struct Seen {
        var events: [TopicPartition: Int64] = [:]
        var invalid: [String: Int64] = [:]
        var skipped: [String: Int64] = [:]
        var duplicates: Int64 = 0
        var suppressed: Int64 = 0
        var clamped: [String: UInt64] = [:]
        var transitions: [SegmentTransition: Int64] = [:]
        var kafkaErrors: [KafkaError.Code: Int64] = [:]
        var lagGauges: [TopicPartition: Gauge] = [:]
        var segmentGauges: [String: Gauge] = [:]
        var cpuSeconds: Double = 0
        var reevaluated: Int64 = 0
        var audienceGauges: [String: Gauge] = [:]
        var audienceChanges: [AudienceStatus.ChangeKey: Int64] = [:]
        var restoreGauges: [TopicPartition: Gauge] = [:]
        var restoredCustomers: Int64 = 0
        var modelAdoptions: Int64 = 0
    }

    /// Every dead-letter reason, from the decoder's stable code set (so a new code cannot be missed here).
    /// Upper bounds (seconds) of the latency histograms: fine from 1 ms to 300 ms, where a quiet or moderately loaded
    /// daemon's p99 lies, so that an interpolated quantile is off by a few milliseconds, not by a whole decade.
    static let secondsBuckets: [Double] = [
        0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.06, 0.075, 0.1, 0.125, 0.15, 0.2,
        0.25, 0.3, 0.5, 0.75, 1, 2.5, 5, 10, 30,
    ]
    static let reasons = EventRejection.Code.allCases.filter(\.isDeadLetter).map(\.rawValue)

    /// `readyMaxLag`: `http.ready_max_lag`, so that `segmenter_ready` says what `/readyz` says.
    public init(status: PipelineStatusBoard, readyMaxLag: Int = 100_000) {
        self.status = status
        self.readyMaxLag = readyMaxLag
        // Every reason exists from the start at 0, so increase() sees the first dead letter.
        for reason in Self.reasons {
            _ = registry.makeCounter(
                name: "segmenter_events_invalid_total", labels: [("reason", reason)],
                help: "Events that failed decoding and went to the dead-letter topic, by reason")
        }
        _ = registry.makeCounter(name: "segmenter_events_duplicate_total",
                                 help: "Events skipped because their event_id was applied recently")
        for direction in ["ahead", "behind"] { _ = clampedCounter(direction) }
    }

    private func clampedCounter(_ direction: String) -> Counter {
        registry.makeCounter(
            name: "segmenter_events_clamped_total", labels: [("direction", direction)],
            help: "Events applied at a clamped time: too far ahead of or behind the stream "
                + "(model.max_event_lead_hours, model.max_event_lag_days)")
    }

    /// Folds the current status into the registry and renders the Prometheus text format.
    public func render() -> [UInt8] {
        let current = status.read()
        let samples = status.drainSamples()
        state.withLock { seen in
            advance(
                "segmenter_events_total", help: "Events consumed (valid, invalid and duplicate)",
                totals: current.eventsByPartition, seen: &seen.events
            ) { [("topic", $0.topic), ("partition", String($0.partition))] }
            advance(
                "segmenter_events_invalid_total",
                help: "Events that failed decoding and went to the dead-letter topic, by reason",
                totals: current.invalidByReason, seen: &seen.invalid
            ) { [("reason", $0)] }
            advance(
                "segmenter_events_skipped_total",
                help: "Well-formed messages that carry no behaviour (e.g. Segment identify), counted and passed",
                totals: current.skippedByReason, seen: &seen.skipped
            ) { [("reason", $0)] }
            if current.duplicates > seen.duplicates {
                registry.makeCounter(name: "segmenter_events_duplicate_total",
                                     help: "Events skipped because their event_id was applied recently")
                    .increment(by: current.duplicates - seen.duplicates)
                seen.duplicates = current.duplicates
            }
            if current.eventsSuppressed > seen.suppressed {
                registry.makeCounter(name: "segmenter_events_suppressed_total",
                                     help: "Events of erased customers dropped by privacy.suppress_erased")
                    .increment(by: current.eventsSuppressed - seen.suppressed)
                seen.suppressed = current.eventsSuppressed
            }
            for (direction, total) in [("ahead", current.eventsClampedAhead), ("behind", current.eventsClampedBehind)]
            where total > seen.clamped[direction, default: 0] {
                clampedCounter(direction).increment(by: Int64(total - seen.clamped[direction, default: 0]))
                seen.clamped[direction] = total
            }
            advance(
                "segmenter_segment_changes_total",
                help: "Segment changes by previous and new segment id (from=\"none\" for first assignments, "
                    + "to=\"none\" for erased and merged-away customers)",
                totals: current.changesByTransition, seen: &seen.transitions
            ) { [("from", $0.from.map(String.init) ?? "none"), ("to", $0.to.map(String.init) ?? "none")] }
            advance(
                "segmenter_kafka_errors_total", help: "Errors librdkafka reported to the consumer or producer, by code",
                totals: current.kafkaErrorsByCode, seen: &seen.kafkaErrors
            ) { [("code", $0.rawValue)] }
            if let brokers = current.kafkaBrokers {
                gauge("segmenter_kafka_brokers_up", "Kafka brokers the consumer is connected to")
                    .set(Double(brokers.up))
                gauge("segmenter_kafka_brokers_known", "Kafka brokers the consumer knows of")
                    .set(Double(brokers.known))
            }
            updateLag(current, &seen)
            updateSegments(current, &seen)
            updateAudiences(current.audiences, &seen)
            gauge("segmenter_outbox_pending", "Changes and dead letters committed but not yet delivered")
                .set(Double(current.outboxPending))
            updateRestores(current, &seen)
            gauge("segmenter_model_version", "Version of the model in use").set(Double(current.modelVersion))
            gauge("segmenter_model_inertia", "Running mean squared distance of learned vectors to their center")
                .set(current.inertia)
            gauge("segmenter_model_size_entropy",
                  "Entropy (nats) of segment sizes: log(k) when equal, 0 when collapsed")
                .set(Segmentation.sizeEntropy(current.segmentSizes))
            gauge("segmenter_model_drift_per_hour", "Mean distance centers moved per hour of event time")
                .set(current.driftPerHour)
            gauge("segmenter_model_frozen", "1 while the model is frozen (serving only)")
                .set(current.frozen ? 1.0 : 0.0)
            updateGroupModel(current, &seen)
            gauge("segmenter_changes_per_1000_events", "Segment changes per 1,000 consumed events since start")
                .set(current.eventsTotal > 0 ? Double(current.changesTotal) * 1000 / Double(current.eventsTotal) : 0)
            let reevaluated = current.reevaluatedTotal - seen.reevaluated
            if reevaluated > 0 {
                registry.makeCounter(name: "segmenter_reevaluated_customers_total",
                                     help: "Customers re-evaluated under the current model (round robin)")
                    .increment(by: reevaluated)
                seen.reevaluated = current.reevaluatedTotal
            }
            gauge("segmenter_reevaluation_passes", "Completed round-robin passes over all stored customers")
                .set(Double(current.reevaluationPasses))
            let ready = current.readinessProblems(maxLag: readyMaxLag).isEmpty
            gauge("segmenter_ready", "1 when /readyz would answer 200").set(ready ? 1.0 : 0.0)
            processMetrics(&seen)
        }
        let commit = registry.makeValueHistogram(
            name: "segmenter_batch_commit_seconds",
            buckets: Self.secondsBuckets, help: "Time to commit one batch transaction to SQLite")
        for value in samples.commit { commit.record(value) }
        let latency = registry.makeValueHistogram(
            name: "segmenter_event_to_change_seconds",
            buckets: Self.secondsBuckets,
            help: "From the triggering event's Kafka timestamp to the delivery of the segment change it caused")
        for value in samples.eventToChange { latency.record(value) }
        return registry.emitToBuffer()
    }

    /// Adds to a labelled counter what each cumulative total of the status board grew by since the last scrape.
    private func advance<Key: Hashable>(
        _ name: String, help: String, totals: [Key: Int64], seen: inout [Key: Int64],
        labels: (Key) -> [(String, String)]
    ) {
        for (key, total) in totals {
            let delta = total - seen[key, default: 0]
            guard delta > 0 else { continue }
            seen[key] = total
            registry.makeCounter(name: name, labels: labels(key), help: help).increment(by: delta)
        }
    }

    private func gauge(_ name: String, _ help: String) -> Gauge {
        registry.makeGauge(name: name, help: help)
    }

    private func updateLag(_ current: PipelineStatus, _ seen: inout Seen) {
        setPartitionGauges(
            "segmenter_consumer_lag", "High watermark minus the next offset to process, per assigned partition",
            current.lagByPartition, &seen.lagGauges)
    }

    /// One gauge per partition in `values`, labelled by topic and partition; the gauges of partitions no longer in
    /// `values` are removed.
    private func setPartitionGauges(
        _ name: String, _ help: String, _ values: [TopicPartition: Int64], _ gauges: inout [TopicPartition: Gauge]
    ) {
        for (partition, value) in values {
            let gauge = gauges[partition] ?? registry.makeGauge(
                name: name, labels: [("topic", partition.topic), ("partition", String(partition.partition))],
                help: help)
            gauges[partition] = gauge
            gauge.set(Double(value))
        }
        for (partition, gauge) in gauges where values[partition] == nil {
            registry.unregisterGauge(gauge)
            gauges.removeValue(forKey: partition)
        }
    }

    /// The group's model: whether this instance leads it, and the published models it adopted.
    private func updateGroupModel(_ current: PipelineStatus, _ seen: inout Seen) {
        guard let group = current.groupModel else { return }
        gauge("segmenter_model_leader",
              "1 while this instance leads the group's model (owns partition 0), 0 while it follows")
            .set(group.role == "leader" ? 1.0 : 0.0)
        if group.adoptions > seen.modelAdoptions {
            registry.makeCounter(name: "segmenter_model_adoptions_total",
                                 help: "Models published by the group's leader and adopted by this instance")
                .increment(by: group.adoptions - seen.modelAdoptions)
            seen.modelAdoptions = group.adoptions
        }
    }

    /// Restores from the changelog: records left per partition (the gauge goes once the partition is consumed
    /// again), seconds spent and customers restored.
    private func updateRestores(_ current: PipelineStatus, _ seen: inout Seen) {
        setPartitionGauges(
            "segmenter_restore_remaining", "Changelog records left to read per partition being restored",
            current.restoreRemaining, &seen.restoreGauges)
        gauge("segmenter_restore_seconds",
              "Wall-clock seconds with at least one partition restoring from the changelog, since start")
            .set(current.restoreSecondsTotal)
        gauge("segmenter_restores_completed", "Partitions restored from the changelog since start")
            .set(Double(current.restoresCompleted))
        if current.restoredCustomersTotal > seen.restoredCustomers {
            registry.makeCounter(name: "segmenter_restored_customers_total",
                                 help: "Customers restored from the changelog")
                .increment(by: current.restoredCustomersTotal - seen.restoredCustomers)
            seen.restoredCustomers = current.restoredCustomersTotal
        }
    }

    private func updateSegments(_ current: PipelineStatus, _ seen: inout Seen) {
        var live: Set<String> = []
        for (id, size) in current.segmentSizes {
            let name = current.segmentNames[id] ?? "Segment \(id)"
            let key = "\(id)|\(name)"
            live.insert(key)
            let gauge = seen.segmentGauges[key] ?? registry.makeGauge(
                name: "segmenter_segment_customers", labels: [("segment_id", String(id)), ("segment_name", name)],
                help: "Customers currently in each segment")
            seen.segmentGauges[key] = gauge
            gauge.set(Double(size))
        }
        for (key, gauge) in seen.segmentGauges where !live.contains(key) {
            registry.unregisterGauge(gauge)
            seen.segmentGauges.removeValue(forKey: key)
        }
    }

    private func updateAudiences(_ audiences: AudienceStatus, _ seen: inout Seen) {
        for (id, size) in audiences.sizes {
            let gauge = seen.audienceGauges[id] ?? registry.makeGauge(
                name: "segmenter_audience_customers", labels: [("audience", id)],
                help: "Customers currently in each rule audience")
            seen.audienceGauges[id] = gauge
            gauge.set(Double(size))
        }
        advance(
            "segmenter_audience_changes_total", help: "Audience Entered and Exited events, by audience",
            totals: audiences.changes, seen: &seen.audienceChanges
        ) { [("audience", $0.audience), ("event", $0.entered ? "entered" : "exited")] }
        gauge("segmenter_audience_backfill_running", "1 while audiences are back-filled over stored customers")
            .set(audiences.backfillRunning ? 1.0 : 0.0)
        gauge("segmenter_audience_backfill_customers", "Stored customers the audience back-fill has visited")
            .set(Double(audiences.backfillVisited))
        gauge("segmenter_audience_backfill_target_customers", "Stored customers the audience back-fill walks over")
            .set(Double(audiences.backfillTotal))
    }

    /// Standard process metrics from /proc (Linux).
    private func processMetrics(_ seen: inout Seen) {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")")
        else { return }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let page = Double(sysconf(Int32(_SC_PAGESIZE)))
        if fields.count > 22, let user = Double(fields[11]), let system = Double(fields[12]),
           let start = Double(fields[19]), let rss = Double(fields[21])
        {
            let cpu = (user + system) / ticks
            registry.makeCounter(name: "process_cpu_seconds_total", help: "Total user and system CPU time")
                .increment(by: max(0, cpu - seen.cpuSeconds))
            seen.cpuSeconds = max(seen.cpuSeconds, cpu)
            gauge("process_resident_memory_bytes", "Resident memory size").set(rss * page)
            if let uptime = try? String(contentsOfFile: "/proc/uptime", encoding: .utf8),
               let seconds = Double(uptime.split(separator: " ")[0])
            {
                let boot = Date().timeIntervalSince1970 - seconds
                gauge("process_start_time_seconds", "Start time of the process since the epoch")
                    .set(boot + start / ticks)
            }
        }
        if let descriptors = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            gauge("process_open_fds", "Open file descriptors").set(Double(descriptors.count))
        }
    }
}
