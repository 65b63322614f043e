/// One customer's row: the daemon's serialized feature state plus what the store and the query side need to
/// see without decoding it. Times are epoch milliseconds (UTC).
public struct StoredCustomer: Sendable, Equatable {
    public var customerID: String
    /// The Kafka partition the customer's key maps to (DESIGN §7: state is partition-scoped).
    public var partition: Int32
    /// The daemon's serialized feature state; opaque to the store.
    public var state: [UInt8]
    /// The current segment, `nil` before the first assignment.
    public var segmentID: Int?
    /// When the customer entered `segmentID`.
    public var segmentSince: Int64?
    /// Sequence number of the customer's last transition (0 before the first); change event ids derive from it.
    public var transitionSeq: Int64
    /// Exact number of events applied to `state`.
    public var eventCount: Int64
    /// Event time of the last applied event.
    public var lastEventAt: Int64
    /// The earliest time at which ageing alone could change the assignment; `nil` when none can.
    public var timerDueAt: Int64?
    /// The daemon's serialized rule-audience state (memberships, sequence numbers, traits); opaque to the store,
    /// `nil` when the customer has none.
    public var audiences: [UInt8]?
    /// The customer's place in walks over customers (the engine's creation order; ties by id).
    public var ordinal: Int64
    /// The customer's sample level (a hash of the id; see the core's `CustomerSample`), kept in an indexed column so
    /// that a bounded sample is read without a scan.
    public var sampleLevel: Int

    public init(
        customerID: String,
        partition: Int32,
        state: [UInt8],
        segmentID: Int? = nil,
        segmentSince: Int64? = nil,
        transitionSeq: Int64 = 0,
        eventCount: Int64,
        lastEventAt: Int64,
        timerDueAt: Int64? = nil,
        audiences: [UInt8]? = nil,
        ordinal: Int64 = 0,
        sampleLevel: Int = 0
    ) {
        self.ordinal = ordinal
        self.sampleLevel = sampleLevel
        self.customerID = customerID
        self.partition = partition
        self.state = state
        self.segmentID = segmentID
        self.segmentSince = segmentSince
        self.transitionSeq = transitionSeq
        self.eventCount = eventCount
        self.lastEventAt = lastEventAt
        self.timerDueAt = timerDueAt
        self.audiences = audiences
    }
}

extension StoredCustomer {
    /// The column list every customer query selects, in the order `init(row:)` reads.
    static let columns = """
        customer_id, partition, state, segment_id, segment_since, transition_seq, event_count, last_event_at, \
        timer_due_at, audiences, ordinal, sample_level
        """

    init(row: SQLiteStatement) {
        self.init(
            customerID: row.text(0),
            partition: Int32(truncatingIfNeeded: row.int64(1)),
            state: row.blob(2),
            segmentID: row.optionalInt(3),
            segmentSince: row.optionalInt64(4),
            transitionSeq: row.int64(5),
            eventCount: row.int64(6),
            lastEventAt: row.int64(7),
            timerDueAt: row.optionalInt64(8),
            audiences: row.isNull(9) ? nil : row.blob(9),
            ordinal: row.int64(10),
            sampleLevel: row.optionalInt(11) ?? 0
        )
    }
}
