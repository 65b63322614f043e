/// One customer as the pipeline sees it: behaviour state plus the current segment and bookkeeping that makes
/// exactly-once checkable (``eventCount`` counts applied events) and change ids deterministic (``transitionSeq``).
public struct CustomerRecord: Sendable, Hashable {
    public var customerID: String
    /// Kafka partition the customer's events arrive on (state is partition-scoped, DESIGN §7).
    public var partition: Int32
    public var state: CustomerState
    public var segmentID: Int?
    /// Event time (epoch ms) the customer entered ``segmentID``.
    public var segmentSince: Int64?
    /// Number of segment changes emitted for this customer so far.
    public var transitionSeq: Int64
    /// Exact number of events applied (duplicates and rejected events excluded).
    public var eventCount: Int64
    /// When ageing alone would next move the customer (see ``Segmentation/refreshTimer(_:)``); cleared whenever
    /// the customer changes segment, so the next tick computes it for the new segment.
    public var timerDueAt: Int64?
    /// Rule-audience memberships and computed traits (see ``AudienceRules``); stored with the record so that they
    /// change in the same transaction as the events that change them.
    public var audiences: CustomerAudiences
    /// The order in which the engine first saw the customer (see ``CustomerWalkKey``).
    public var ordinal: Int64

    /// The customer's place in every walk over customers.
    public var walkKey: CustomerWalkKey { CustomerWalkKey(ordinal: ordinal, customerID: customerID) }

    /// The order due timers fire in: by due time, then by customer id in byte order (records without a timer
    /// last).
    public static func firesBefore(_ a: CustomerRecord, _ b: CustomerRecord) -> Bool {
        let x = a.timerDueAt ?? .max, y = b.timerDueAt ?? .max
        return x != y ? x < y : a.customerID.precedesInByteOrder(b.customerID)
    }

    public init(
        customerID: String, partition: Int32, state: CustomerState, segmentID: Int? = nil,
        segmentSince: Int64? = nil, transitionSeq: Int64 = 0, eventCount: Int64 = 0, timerDueAt: Int64? = nil,
        audiences: CustomerAudiences = .init(), ordinal: Int64 = 0
    ) {
        self.ordinal = ordinal
        self.timerDueAt = timerDueAt
        self.audiences = audiences
        self.customerID = customerID
        self.partition = partition
        self.state = state
        self.segmentID = segmentID
        self.segmentSince = segmentSince
        self.transitionSeq = transitionSeq
        self.eventCount = eventCount
    }
}
