/// Where a customer sits in the order every walk over customers follows (the round-robin re-evaluation, the
/// refinement sample, audience back-fills): the customer's ordinal — the order in which the engine first saw
/// them — then the id for the rare tie (customers restored from another instance's changelog). New customers
/// always come last, so a directory keeps this order by appending: no walk sorts customers, and a cursor into it
/// is a position in the store's own index (issue #25).
public struct CustomerWalkKey: Sendable, Hashable, Codable, Comparable {
    public var ordinal: Int64
    public var customerID: String

    public init(ordinal: Int64, customerID: String) {
        self.ordinal = ordinal
        self.customerID = customerID
    }

    public static func < (a: Self, b: Self) -> Bool {
        walksBefore(a.ordinal, a.customerID, b.ordinal, b.customerID)
    }

    /// The walk order on its parts, for callers that hold records: building keys copies ids.
    public static func walksBefore(_ x: Int64, _ xID: String, _ y: Int64, _ yID: String) -> Bool {
        x != y ? x < y : xID.precedesInByteOrder(yID)
    }
}

/// The engine's bounded sample of customers (refinement, and any model fitted on customers): a customer belongs
/// to the sample at level `L` when the level of their id is at least `L`, where a level is the number of trailing
/// zero bits of a mixed hash of the id — so each level halves the sample, membership needs no state of its own, a
/// store can index it, and the same customers are sampled in replay and in the daemon whatever the order of events.
public enum CustomerSample {
    /// The sample level of `customerID` (0 for half of all ids, 1 for a quarter, …, at most 63).
    public static func level(of customerID: String) -> Int {
        var x = StableHash.fnv1a64(customerID)
        // SplitMix64's finaliser: FNV-1a's low bits alone are too regular on ids that differ in their last bytes.
        x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
        x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
        x ^= x >> 31
        return min(63, x.trailingZeroBitCount)
    }

    /// Raises `level` until at most `capacity` of `members` remain, dropping those below it.
    public static func thin(_ members: inout [CustomerRecord], level: inout Int, capacity: Int) {
        while members.count > capacity, level < 63 {
            level += 1
            let minimum = level
            members.removeAll { Self.level(of: $0.customerID) < minimum }
        }
    }
}
