import SegmenterCore

/// What the pipeline reports about rule audiences (issue 16), inside ``PipelineStatus``: sizes, changes by audience
/// and event, the latest changes, and the back-fill's progress. Metrics, `GET /v1/audiences` and the console
/// read it.
public struct AudienceStatus: Sendable {
    /// An Audience Entered / Exited count's labels.
    public struct ChangeKey: Sendable, Hashable {
        public var audience: String
        public var entered: Bool
    }

    public struct RecentChange: Sendable {
        public var customerID: String
        public var audience: String
        public var event: String
        public var cause: String
        public var at: Int64
    }

    /// Members per configured audience id.
    public var sizes: [String: Int64] = [:]
    /// Cumulative changes since start.
    public var changes: [ChangeKey: Int64] = [:]
    public var recent: [RecentChange] = []
    /// True while audiences added or changed on existing data are being back-filled.
    public var backfillRunning = false
    /// Customers the back-fill has visited, and how many there are.
    public var backfillVisited: Int64 = 0
    public var backfillTotal: Int64 = 0

    /// Adds what one batch counted.
    mutating func fold(_ counts: AudienceCounts) {
        for (id, delta) in counts.sizeDeltas { sizes[id, default: 0] += delta }
        for (key, n) in counts.changes { changes[key, default: 0] += n }
        recent += counts.recent
        if recent.count > 50 { recent.removeFirst(recent.count - 50) }
    }
}

/// Audience changes counted since the status board was last updated.
struct AudienceCounts {
    var sizeDeltas: [String: Int64] = [:]
    var changes: [AudienceStatus.ChangeKey: Int64] = [:]
    var recent: [AudienceStatus.RecentChange] = []

    mutating func count(_ change: AudienceChange) {
        sizeDeltas[change.audienceID, default: 0] += change.entered ? 1 : -1
        changes[.init(audience: change.audienceID, entered: change.entered), default: 0] += 1
        recent.append(.init(customerID: change.customerID, audience: change.audienceID, event: change.eventName,
                            cause: change.cause.rawValue, at: change.at))
        if recent.count > 50 { recent.removeFirst(recent.count - 50) }
    }
}
