/// A decision of the core: customer `customerID` moves from `previous` (nil on the first assignment) to
/// `segment` (nil on the last change of a customer who was erased or merged into another id: downstream lists drop
/// them). The daemon writes it to the outbox and publishes it; its ``eventID`` is deterministic
/// (`<customer_id>:<sequence>`) so that consumers can drop the duplicates at-least-once delivery may cause.
public struct SegmentChange: Sendable, Hashable {
    /// Why the customer moved.
    public enum Cause: String, Sendable, Hashable, CaseIterable {
        /// The customer's own event moved them.
        case event
        /// A new customer's first session ended: their first segment, decided on the whole session rather than on
        /// its first page view (see ``SegmentationConfiguration/firstSegmentAtSessionEnd``).
        case session
        /// Time passing moved them (e.g. dormancy).
        case timer
        /// The model changed under them (initialisation, re-evaluation, retrain).
        case model
        /// Identity merge (issue 18): on the known id, another id's state was merged in (``mergedFrom``); on the
        /// merged id, its last change, with `segment` nil (``mergedInto``).
        case merge
        /// The customer was erased (GDPR/CCPA): their last change, with `segment` nil.
        case erased
    }

    public struct SegmentRef: Sendable, Hashable {
        public var id: Int
        public var name: String

        public init(id: Int, name: String) {
            self.id = id
            self.name = name
        }
    }

    public var customerID: String
    /// The customer's transition number: 1 for the first assignment, then 2, 3, … without gaps.
    public var sequence: Int64
    public var previous: SegmentRef?
    /// nil only on a customer's last change (cause ``Cause/erased`` or ``Cause/merge``).
    public var segment: SegmentRef?
    public var cause: Cause
    public var triggerEventID: String?
    /// Event time of the move (epoch ms): the triggering event's time, or the watermark for timer/model moves.
    public var at: Int64
    public var modelVersion: Int64
    /// Feature names and values in user units at the moment of the move.
    public var features: [(name: String, value: Double)]
    /// On a merge change of the known id: the id whose state was merged in.
    public var mergedFrom: String?
    /// On the last change of a merged id: the id it was merged into.
    public var mergedInto: String?

    public var eventID: String { "\(customerID):\(sequence)" }

    public init(
        customerID: String, sequence: Int64, previous: SegmentRef?, segment: SegmentRef?, cause: Cause,
        triggerEventID: String?, at: Int64, modelVersion: Int64, features: [(name: String, value: Double)],
        mergedFrom: String? = nil, mergedInto: String? = nil
    ) {
        self.mergedFrom = mergedFrom
        self.mergedInto = mergedInto
        self.customerID = customerID
        self.sequence = sequence
        self.previous = previous
        self.segment = segment
        self.cause = cause
        self.triggerEventID = triggerEventID
        self.at = at
        self.modelVersion = modelVersion
        self.features = features
    }

    public static func == (a: SegmentChange, b: SegmentChange) -> Bool {
        a.customerID == b.customerID && a.sequence == b.sequence && a.previous == b.previous
            && a.segment == b.segment && a.cause == b.cause && a.triggerEventID == b.triggerEventID && a.at == b.at
            && a.modelVersion == b.modelVersion && a.features.elementsEqual(b.features) { $0 == $1 }
            && a.mergedFrom == b.mergedFrom && a.mergedInto == b.mergedInto
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(customerID)
        hasher.combine(sequence)
    }
}
