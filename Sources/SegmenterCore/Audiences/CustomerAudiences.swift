/// What one customer carries for rule audiences, stored with the customer record so that it becomes durable in the
/// same transaction as the event that changed it (exactly once across `kill -9`): the computed traits'
/// accumulators, and per audience whether the customer is a member and how many Entered/Exited events they had.
public struct CustomerAudiences: Sendable, Hashable {
    /// Membership of one audience: `seq` counts the customer's Entered and Exited events for it (odd while a
    /// member), so the next event's id is `<customer_id>:<audience_id>:<seq + 1>`.
    public struct Membership: Sendable, Hashable {
        public var isMember: Bool
        public var seq: Int64

        public init(isMember: Bool, seq: Int64) {
            self.isMember = isMember
            self.seq = seq
        }
    }

    struct StoredTrait: Sendable, Hashable {
        /// ``ComputedTrait/fingerprint`` of the definition the state was built for.
        var fingerprint: UInt64
        var state: TraitState
    }

    /// By audience id. Audiences removed from the configuration keep their entry, so that adding one back continues
    /// its sequence instead of reusing event ids.
    public internal(set) var memberships: [String: Membership] = [:]
    /// By trait name.
    var traits: [String: StoredTrait] = [:]
    /// When an audience timer brought ``CustomerRecord/timerDueAt`` forward: the segment's own due time, and the
    /// shared value that was set (see `SegmentationEngine.refreshTimers`).
    var segmentTimerDueAt: Int64?
    var sharedTimerDueAt: Int64?

    public init() {}

    public var isEmpty: Bool { memberships.isEmpty && traits.isEmpty && sharedTimerDueAt == nil }

    /// Ids of the audiences the customer is in, sorted.
    public var audienceIDs: [String] {
        memberships.filter(\.value.isMember).keys.sorted()
    }

    static let encodingVersion: UInt8 = 1

    /// Compact stored form (nil when there is nothing to store).
    public func encoded() -> [UInt8]? {
        guard !isEmpty else { return nil }
        var writer = ByteWriter(capacity: 64)
        writer.write(Self.encodingVersion)
        writer.write(UInt16(traits.count))
        for name in traits.keys.sorted() {
            let trait = traits[name]!
            TraitState.encode(name, into: &writer)
            writer.write(trait.fingerprint)
            trait.state.encode(into: &writer)
        }
        writer.write(UInt16(memberships.count))
        for id in memberships.keys.sorted() {
            let membership = memberships[id]!
            TraitState.encode(id, into: &writer)
            writer.write(UInt8(membership.isMember ? 1 : 0))
            writer.write(membership.seq)
        }
        writer.write(UInt8((segmentTimerDueAt == nil ? 0 : 1) | (sharedTimerDueAt == nil ? 0 : 2)))
        if let segmentTimerDueAt { writer.write(segmentTimerDueAt) }
        if let sharedTimerDueAt { writer.write(sharedTimerDueAt) }
        return writer.bytes
    }

    /// Reads what ``encoded()`` wrote; nil or empty bytes are an empty state.
    public init(encoded bytes: [UInt8]?) throws {
        self.init()
        guard let bytes, !bytes.isEmpty else { return }
        var reader = ByteReader(bytes)
        func fail(_ why: String) -> CustomerStateDecodingError {
            CustomerStateDecodingError(description: "stored audience state is unreadable: \(why)")
        }
        guard reader.read(UInt8.self) == Self.encodingVersion else { throw fail("unknown version") }
        guard let traitCount = reader.read(UInt16.self) else { throw fail("truncated traits") }
        for _ in 0..<traitCount {
            guard let name = TraitState.decodeString(&reader), let fingerprint = reader.read(UInt64.self),
                  let state = TraitState(from: &reader)
            else { throw fail("truncated trait") }
            traits[name] = StoredTrait(fingerprint: fingerprint, state: state)
        }
        guard let count = reader.read(UInt16.self) else { throw fail("truncated memberships") }
        for _ in 0..<count {
            guard let id = TraitState.decodeString(&reader), let flag = reader.read(UInt8.self),
                  let seq = reader.read(Int64.self)
            else { throw fail("truncated membership") }
            memberships[id] = Membership(isMember: flag == 1, seq: seq)
        }
        guard let timers = reader.read(UInt8.self) else { throw fail("truncated timers") }
        if timers & 1 != 0 {
            guard let due = reader.read(Int64.self) else { throw fail("truncated timers") }
            segmentTimerDueAt = due
        }
        if timers & 2 != 0 {
            guard let due = reader.read(Int64.self) else { throw fail("truncated timers") }
            sharedTimerDueAt = due
        }
        guard reader.isAtEnd else { throw fail("trailing bytes") }
    }
}
