import Synchronization

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
    public var eventsByPartition: [String: Int64] = [:]
    public var invalidByReason: [String: Int64] = [:]
    public var duplicates: Int64 = 0
    /// Events applied at a clamped time (too far ahead of / behind the stream), since the store was created.
    public var eventsClampedAhead: UInt64 = 0
    public var eventsClampedBehind: UInt64 = 0
    public var changesTotal: Int64 = 0
    public var changesByTransition: [String: Int64] = [:]
    public var lagByPartition: [String: Int64] = [:]
    public var assignedPartitions: [String] = []
    public var segmentSizes: [Int: Int64] = [:]
    public var segmentNames: [Int: String] = [:]
    public var modelVersion: Int64 = 0
    public var inertia: Double = 0
    public var driftPerHour: Double = 0
    public var frozen = false
    public var reevaluatedTotal: Int64 = 0
    public var reevaluationPasses: Int64 = 0
    public var outboxPending: Int64 = 0
    public var batches: Int64 = 0
    public var lastBatchCommitSeconds: Double = 0
    public var recentChanges: [RecentChange] = []
    /// Observations since the last read, drained by the metrics exporter.
    public var commitSecondsSamples: [Double] = []
    public var eventToChangeSecondsSamples: [Double] = []

    public var totalLag: Int64 { lagByPartition.values.reduce(0, +) }
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
