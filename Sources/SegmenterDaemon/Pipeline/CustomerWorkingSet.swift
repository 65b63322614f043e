import SegmenterCore
import SegmenterStore

/// The daemon's customers: a bounded LRU cache in front of the store, and what the current batch changed. As the
/// engine's ``CustomerDirectory`` it answers for every customer, committed or not — the round robin and due
/// timers see this batch's changes and newcomers exactly as replay's in-memory directory would, so the engine's
/// output does not depend on where the commits fall.
struct CustomerWorkingSet: CustomerDirectory {
    private let store: any PipelineStore
    private let layout: FeatureLayout
    private let capacity: Int
    private var cache: LRUCache<String, CustomerRecord>
    /// Changed since the last commit.
    private var dirty: Set<String> = []
    /// Dirty records the cache evicted before the commit: the newest copy until then.
    private var evictedDirty: [String: CustomerRecord] = [:]
    /// Seen for the first time since the last commit (not in the store yet), in byte order of id once sorted.
    private var newcomers: Set<String> = []

    init(store: any PipelineStore, layout: FeatureLayout, capacity: Int) {
        self.store = store
        self.layout = layout
        self.capacity = capacity
        cache = LRUCache(capacity: capacity)
    }

    var hasChanges: Bool { !dirty.isEmpty }

    /// The newest copy of a customer held in memory (changed or cached), without touching the store.
    func peek(_ id: String) -> CustomerRecord? {
        cache.peek(id) ?? evictedDirty[id]
    }

    mutating func withRecord<R>(
        _ id: String, make: () -> CustomerRecord, _ body: (inout CustomerRecord) throws -> R
    ) throws -> R {
        // Hot path: a cached customer is updated in place, without copying the record.
        if cache.contains(id) {
            dirty.insert(id)
            return try cache.modify(id, body)!
        }
        var record = try load(id) ?? {
            newcomers.insert(id)
            return make()
        }()
        let result = try body(&record)
        keep(record)
        return result
    }

    mutating func record(_ id: String) throws -> CustomerRecord? {
        if let cached = cache.get(id) { return cached }
        guard let loaded = try load(id) else { return nil }
        if let entry = cache.put(id, loaded) { evicted(entry) }
        return loaded
    }

    mutating func update(_ record: CustomerRecord) throws {
        keep(record)
    }

    mutating func customers(after: String?, limit: Int) throws -> [CustomerRecord] {
        guard limit > 0 else { return [] }
        let stored = try store.customers(afterID: after, limit: limit)
        var records = try stored.map { try peek($0.customerID) ?? CustomerRecord(stored: $0, layout: layout) }
        let fresh = newcomers.filter { id in after.map { $0.precedesInByteOrder(id) } ?? true }
        guard !fresh.isEmpty else { return records }
        records += fresh.compactMap(peek)
        records.sort { $0.customerID.precedesInByteOrder($1.customerID) }
        return Array(records.prefix(limit))
    }

    mutating func customersDue(through time: Int64) throws -> [CustomerRecord] {
        var due: [String: CustomerRecord] = [:]
        // Stored timers (paged by due time; the store's copy can be stale for this batch's customers, whose
        // in-memory record decides), then this batch's records, whose timers the store has not seen yet.
        var after: (due: Int64, id: String)?
        while true {
            let page = try store.customersDue(through: time, after: after, limit: 5_000)
            for row in page {
                let record = try peek(row.customerID) ?? CustomerRecord(stored: row, layout: layout)
                if let at = record.timerDueAt, at <= time { due[row.customerID] = record }
            }
            guard page.count == 5_000, let last = page.last, let at = last.timerDueAt else { break }
            after = (at, last.customerID)
        }
        for id in dirty where due[id] == nil {
            if let record = peek(id), let at = record.timerDueAt, at <= time { due[id] = record }
        }
        return due.values.sorted(by: CustomerRecord.firesBefore)
    }

    /// Adds every changed customer to `batch` and forgets the changes (the batch is about to be committed).
    mutating func drainChanges(into batch: inout StoreBatch) {
        for id in dirty {
            guard let record = peek(id) else { continue }
            batch.customers.append(StoredCustomer(
                customerID: record.customerID, partition: record.partition, state: record.state.encoded(layout: layout),
                segmentID: record.segmentID, segmentSince: record.segmentSince, transitionSeq: record.transitionSeq,
                eventCount: record.eventCount, lastEventAt: record.state.lastEventAt, timerDueAt: record.timerDueAt,
                audiences: record.audiences.encoded()))
        }
        dirty.removeAll(keepingCapacity: true)
        evictedDirty.removeAll(keepingCapacity: true)
        newcomers.removeAll(keepingCapacity: true)
    }

    /// Empties the cache (after a rebalance, other partitions' customers are not ours any more). Only between
    /// batches: a committed working set has nothing dirty to lose.
    mutating func reset() {
        precondition(dirty.isEmpty, "the working set was reset with uncommitted changes")
        cache = LRUCache(capacity: capacity)
    }

    private func load(_ id: String) throws -> CustomerRecord? {
        if let evicted = evictedDirty[id] { return evicted }
        return try store.customer(id).map { try CustomerRecord(stored: $0, layout: layout) }
    }

    private mutating func keep(_ record: CustomerRecord) {
        dirty.insert(record.customerID)
        if let entry = cache.put(record.customerID, record) { evicted(entry) }
    }

    private mutating func evicted(_ entry: (key: String, value: CustomerRecord)) {
        if dirty.contains(entry.key) { evictedDirty[entry.key] = entry.value }
    }
}
