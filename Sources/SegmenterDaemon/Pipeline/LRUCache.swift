/// A bounded map that forgets the least recently used entry when full, for the daemon's in-memory customers
/// (SQLite is the truth, so memory stays bounded however many customers there are). It lives in the module that
/// uses it so that the compiler specialises it for customer records: generic across a module boundary, every
/// access went through value witnesses (a tenth of the daemon's profile, issue 25).
///
/// `get`, `put`, `modify` and `remove` are O(1): a dictionary maps each key to a slot in one array of nodes that
/// form an intrusive doubly linked list in recency order. Slots of evicted or removed entries are reused, so once
/// the cache has been full, operations allocate nothing (beyond what the keys and values themselves do).
///
/// The daemon may only drop clean entries: `put` returns what it evicted, and `leastRecentlyUsed` with
/// `removeLeastRecentlyUsed()` let it make room itself before inserting.
public struct LRUCache<Key: Hashable, Value> {
    fileprivate struct Node {
        var key: Key?
        var value: Value?
        /// Neighbour towards the most recently used end, or `none`.
        var newer: Int
        /// Neighbour towards the least recently used end, or `none`.
        var older: Int
    }

    private static var none: Int { -1 }

    /// The most entries the cache holds.
    public let capacity: Int
    private var slots: [Key: Int] = [:]
    private var nodes: [Node] = []
    private var newest = LRUCache.none
    private var oldest = LRUCache.none
    /// Head of the list of unused slots, linked through `older`.
    private var free = LRUCache.none

    /// A cache of at most `capacity` entries (at least 1).
    public init(capacity: Int) {
        precondition(capacity > 0, "LRUCache capacity must be positive, got \(capacity)")
        self.capacity = capacity
    }

    public var count: Int { slots.count }
    public var isEmpty: Bool { slots.isEmpty }

    /// The value for `key`, marking it most recently used.
    public mutating func get(_ key: Key) -> Value? {
        guard let slot = slots[key] else { return nil }
        moveToNewest(slot)
        return nodes[slot].value
    }

    /// The value for `key` without changing recency.
    public func peek(_ key: Key) -> Value? {
        // Not `slots[key].flatMap { nodes[$0].value }`: that copied the whole node (key included) per call, which
        // showed in profiles of the daemon's re-evaluation passes.
        guard let slot = slots[key] else { return nil }
        return nodes[slot].value
    }

    /// `body` applied to the value for `key` in place (no copy of the value), without changing recency.
    public func read<R>(_ key: Key, _ body: (Value) -> R) -> R? {
        guard let slot = slots[key], let value = nodes[slot].value else { return nil }
        return body(value)
    }

    public func contains(_ key: Key) -> Bool { slots[key] != nil }

    /// Changes the value for `key` in place (no copy of the value) and marks it most recently used; returns `nil`
    /// without calling `body` when the key is absent.
    public mutating func modify<R>(_ key: Key, _ body: (inout Value) throws -> R) rethrows -> R? {
        guard let slot = slots[key] else { return nil }
        moveToNewest(slot)
        return try body(&nodes[slot].value!)
    }

    /// Stores `value` for `key` as the most recently used entry. When the key is new and the cache is full, the
    /// least recently used entry is evicted and returned.
    @discardableResult
    public mutating func put(_ key: Key, _ value: Value) -> (key: Key, value: Value)? {
        if let slot = slots[key] {
            nodes[slot].value = value
            moveToNewest(slot)
            return nil
        }
        let evicted = slots.count == capacity ? removeLeastRecentlyUsed() : nil
        let slot: Int
        if free != LRUCache.none {
            slot = free
            free = nodes[slot].older
            nodes[slot] = Node(key: key, value: value, newer: LRUCache.none, older: LRUCache.none)
        } else {
            slot = nodes.count
            nodes.append(Node(key: key, value: value, newer: LRUCache.none, older: LRUCache.none))
        }
        slots[key] = slot
        linkAsNewest(slot)
        return evicted
    }

    /// Removes `key` and returns its value.
    @discardableResult
    public mutating func remove(_ key: Key) -> Value? {
        guard let slot = slots.removeValue(forKey: key) else { return nil }
        return release(slot).value
    }

    /// The entry `put` would evict next, without changing anything.
    public var leastRecentlyUsed: (key: Key, value: Value)? {
        guard oldest != LRUCache.none, let key = nodes[oldest].key, let value = nodes[oldest].value else { return nil }
        return (key, value)
    }

    /// Removes and returns the least recently used entry.
    @discardableResult
    public mutating func removeLeastRecentlyUsed() -> (key: Key, value: Value)? {
        guard oldest != LRUCache.none, let key = nodes[oldest].key else { return nil }
        slots.removeValue(forKey: key)
        return release(oldest)
    }

    /// Unlinks `slot`, puts it on the free list and returns the entry it held. The caller has removed its key
    /// from `slots`.
    private mutating func release(_ slot: Int) -> (key: Key, value: Value) {
        unlink(slot)
        let key = nodes[slot].key!
        let value = nodes[slot].value!
        // Drop the references now so that a removed value does not live on in an unused slot.
        nodes[slot].key = nil
        nodes[slot].value = nil
        nodes[slot].older = free
        free = slot
        return (key, value)
    }

    private mutating func moveToNewest(_ slot: Int) {
        guard slot != newest else { return }
        unlink(slot)
        linkAsNewest(slot)
    }

    private mutating func unlink(_ slot: Int) {
        let newer = nodes[slot].newer
        let older = nodes[slot].older
        if newer != LRUCache.none { nodes[newer].older = older } else { newest = older }
        if older != LRUCache.none { nodes[older].newer = newer } else { oldest = newer }
        nodes[slot].newer = LRUCache.none
        nodes[slot].older = LRUCache.none
    }

    private mutating func linkAsNewest(_ slot: Int) {
        nodes[slot].older = newest
        nodes[slot].newer = LRUCache.none
        if newest != LRUCache.none { nodes[newest].newer = slot } else { oldest = slot }
        newest = slot
    }
}

extension LRUCache: Sendable where Key: Sendable, Value: Sendable {}
extension LRUCache.Node: Sendable where Key: Sendable, Value: Sendable {}
