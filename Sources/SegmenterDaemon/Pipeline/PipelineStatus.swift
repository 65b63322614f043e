import SegmenterKafka
import Synchronization

/// A segment change's edge, for counting changes by where they came from and went.
public struct SegmentTransition: Hashable, Sendable {
    /// nil for a first assignment.
    public var from: Int?
    /// nil for a last change (the customer was erased or merged into another id).
    public var to: Int?

    public init(from: Int?, to: Int?) {
        self.from = from
        self.to = to
    }
}

/// What the pipeline reports about itself to the outside (terminal view, HTTP, metrics), updated once per
/// batch. A snapshot value behind a lock: readers never see a half-updated batch and never slow the loop down.
public struct PipelineStatus: Sendable {
    public struct RecentChange: Sendable {
        public var customerID: String
        public var from: String?
        public var to: String
        public var cause: String
        public var at: Int64
    }

    public var started = false
    public var storeOpen = false
    public var eventsTotal: Int64 = 0
    public var eventsByPartition: [TopicPartition: Int64] = [:]
    public var invalidByReason: [String: Int64] = [:]
    /// Well-formed messages that carry no behaviour (Segment `identify`, `alias`, `group`), by reason.
    public var skippedByReason: [String: Int64] = [:]
    public var duplicates: Int64 = 0
    /// Events of erased customers dropped (`privacy.suppress_erased`).
    public var eventsSuppressed: Int64 = 0
    /// Events applied at a clamped time (too far ahead of / behind the stream), since the store was created.
    public var eventsClampedAhead: UInt64 = 0
    public var eventsClampedBehind: UInt64 = 0
    public var changesTotal: Int64 = 0
    public var changesByTransition: [SegmentTransition: Int64] = [:]
    public var lagByPartition: [TopicPartition: Int64] = [:]
    public var assignedPartitions: [TopicPartition] = []
    /// Errors librdkafka reported (consumer and producer), by code.
    public var kafkaErrorsByCode: [KafkaError.Code: Int64] = [:]
    /// Brokers the consumer is connected to, from librdkafka's statistics; nil until the first report.
    public var kafkaBrokers: BrokerHealth?
    public var segmentSizes: [Int: Int64] = [:]
    public var segmentNames: [Int: String] = [:]
    public var modelVersion: Int64 = 0
    public var inertia: Double = 0
    public var driftPerHour: Double = 0
    public var frozen = false
    /// The group's model (`kafka.topics.model`); nil when each instance learns its own.
    public var groupModel: GroupModelStatus?
    public var reevaluatedTotal: Int64 = 0
    public var reevaluationPasses: Int64 = 0
    public var outboxPending: Int64 = 0
    /// Changelog records left to read per partition being restored.
    public var restoreRemaining: [TopicPartition: Int64] = [:]
    public var restoreSecondsTotal: Double = 0
    public var restoredCustomersTotal: Int64 = 0
    public var restoresCompleted: Int64 = 0
    public var batches: Int64 = 0
    public var lastBatchCommitSeconds: Double = 0
    public var recentChanges: [RecentChange] = []
    /// Rule audiences: sizes, changes and back-fill progress.
    public var audiences = AudienceStatus()
    /// Observations since the last read, drained by the metrics exporter.
    public var commitSecondsSamples: [Double] = []
    public var eventToChangeSecondsSamples: [Double] = []

    public var totalLag: Int64 { lagByPartition.values.reduce(0, +) }

    /// Why this instance should not get traffic now (empty when ready): what `/readyz` and `segmenter_ready` say.
    public func readinessProblems(maxLag: Int) -> [String] {
        var problems: [String] = []
        if !storeOpen { problems.append("the store is not open") }
        if !started { problems.append("the pipeline has not started consuming") }
        if assignedPartitions.isEmpty { problems.append("no partitions are assigned to this instance") }
        if !restoreRemaining.isEmpty {
            let left = restoreRemaining.values.reduce(0, +)
            problems.append(
                "restoring \(restoreRemaining.count) partitions from the changelog (\(left) records left to read)")
        }
        if let brokers = kafkaBrokers, brokers.up == 0 {
            problems.append(
                "no Kafka broker is reachable (0 of \(brokers.known) up): check the brokers and "
                    + "kafka.bootstrap_servers; consuming resumes by itself when one is back")
        }
        if totalLag > Int64(maxLag) {
            problems.append("consumer lag \(totalLag) is above http.ready_max_lag \(maxLag)")
        }
        return problems
    }
}

/// The shared, lock-protected ``PipelineStatus``.
public final class PipelineStatusBoard: Sendable {
    private let state = Mutex(PipelineStatus())

    public init() {}

    public func read() -> PipelineStatus {
        state.withLock { $0 }
    }

    public func update(_ body: (inout PipelineStatus) -> Void) {
        state.withLock { body(&$0) }
    }

    /// Returns and clears the histogram samples gathered since the last call.
    public func drainSamples() -> (commit: [Double], eventToChange: [Double]) {
        state.withLock { status in
            defer {
                status.commitSecondsSamples.removeAll(keepingCapacity: true)
                status.eventToChangeSecondsSamples.removeAll(keepingCapacity: true)
            }
            return (status.commitSecondsSamples, status.eventToChangeSecondsSamples)
        }
    }
}

/// Where this instance stands in the group's model (see ``GroupModel``).
public struct GroupModelStatus: Sendable, Codable, Equatable {
    public var topic: String
    /// `leader` (owns the input's partition 0, learns and publishes) or `follower` (adopts what the leader publishes).
    public var role: String
    /// The instance id of the model's publisher in use; nil before any.
    public var leader: String?
    /// Published models adopted since start.
    public var adoptions: Int64
}
