/// The identity map (issue 18): anonymous id → known id, with how far the merge of the two has come. Held in memory
/// (the daemon loads it from the store's `identity_links` and writes back ``takeWrites()`` with every batch; replay
/// keeps it for its run), so that routing an event costs one dictionary lookup.
///
/// Policy: at most ``capacity`` links. When a new link would pass it, the oldest tenth (by the event time the link
/// was made, then id) is evicted: a browser not seen since then and come back later starts a new anonymous customer,
/// which a new tying event merges again. The first link of an anonymous id wins; a later tie of the same anonymous
/// id to another known id is ignored (one browser, one person).
public struct IdentityMap: Sendable {
    /// How far the merge of an anonymous id has come, as this store saw it.
    public enum State: Int, Sendable {
        /// The known id's owner saw the tie and asked the anonymous id's owner for its state.
        case requested = 0
        /// The anonymous id's owner removed the anonymous customer and sent its state: its events now count for the
        /// known id.
        case sent = 1
        /// The known id's owner merged the state in (a second copy of the state is a duplicate).
        case applied = 2
    }

    public struct Link: Sendable, Hashable {
        public var knownID: String
        public var state: State
        /// Event time (epoch ms) of the tie, which orders evictions the same way in replay and the daemon.
        public var linkedAt: Int64

        public init(knownID: String, state: State, linkedAt: Int64) {
            self.knownID = knownID
            self.state = state
            self.linkedAt = linkedAt
        }
    }

    public let capacity: Int
    public private(set) var links: [String: Link]
    private var writes: [String: Link] = [:]
    private var evicted: Set<String> = []

    /// Default capacity: 1,000,000 links (about 100 MB of memory at most).
    public init(capacity: Int = 1_000_000, links: [String: Link] = [:]) {
        self.capacity = max(1, capacity)
        self.links = links
    }

    public var isEmpty: Bool { links.isEmpty }

    public func link(_ anonymousID: String) -> Link? { links[anonymousID] }

    /// The id that events of `id` count for, when `id` was merged away.
    @inline(__always)
    public func target(of id: String) -> String? {
        guard !links.isEmpty, let link = links[id], link.state != .requested else { return nil }
        return link.knownID
    }

    public mutating func set(_ anonymousID: String, _ link: Link) {
        if links.updateValue(link, forKey: anonymousID) == nil, links.count > capacity { evictOldest() }
        writes[anonymousID] = link
        evicted.remove(anonymousID)
    }

    /// Erasure: every link of `id`, as anonymous or as known id (the store deletes its rows itself).
    public mutating func forget(_ id: String) {
        for (anonymous, link) in links where anonymous == id || link.knownID == id {
            links[anonymous] = nil
            writes[anonymous] = nil
        }
    }

    /// The links set and the ids evicted since the last call, for the store.
    public mutating func takeWrites() -> (set: [(String, Link)], evicted: [String]) {
        defer {
            writes.removeAll(keepingCapacity: true)
            evicted.removeAll(keepingCapacity: true)
        }
        let set = writes.sorted { $0.key.precedesInByteOrder($1.key) }.map { ($0.key, $0.value) }
        return (set, evicted.sorted { $0.precedesInByteOrder($1) })
    }

    private mutating func evictOldest() {
        let oldest = links.sorted {
            $0.value.linkedAt != $1.value.linkedAt
                ? $0.value.linkedAt < $1.value.linkedAt : $0.key.precedesInByteOrder($1.key)
        }.prefix(max(1, capacity / 10))
        for (id, _) in oldest {
            links[id] = nil
            writes[id] = nil
            evicted.insert(id)
        }
    }
}
