import SegmenterCore
import SegmenterStore

/// The daemon's customers: a bounded LRU cache in front of the store, and what the current batch changed. As the
/// engine's ``CustomerDirectory`` it answers for every customer, committed or not — the round robin and due
/// timers see this batch's changes and newcomers exactly as replay's in-memory directory would, so the engine's
/// output does not depend on where the commits fall.
///
/// The batch being committed on the committer's thread stays here (`committing`) until its commit finished: the
/// store's read side shows the last committed batch, and this batch's records are newer than what it shows.
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
    /// The changed records of the batch being committed, and its newcomers: what the store may not show yet.
    private var committing: [String: CustomerRecord] = [:]
    private var committingNewcomers: Set<String> = []
    /// Removed (erased or merged away) since the last commit, and those of the batch being committed: the store may
    /// still show their rows, which no read returns (a customer re-created since is in memory and wins).
    private var removed: [String: Int32] = [:]
    private var committingRemoved: Set<String> = []
    /// Ids ``preload(_:)`` found in neither memory nor the store, until ``endPreload()``.
    private var absent: Set<String> = []
    /// The partitions whose stored customers the walks and timers see (nil: all). With a changelog, the store may
    /// keep customers of partitions another instance owns now; they are that instance's to age and re-evaluate.
    var owned: Set<Int32>?

    init(store: any PipelineStore, layout: FeatureLayout, capacity: Int) {
        self.store = store
        self.layout = layout
        self.capacity = capacity
        cache = LRUCache(capacity: capacity)
    }

    var hasChanges: Bool { !dirty.isEmpty || !removed.isEmpty }

    /// The newest copy of a customer held in memory (changed or cached), without touching the store.
    func peek(_ id: String) -> CustomerRecord? {
        cache.peek(id) ?? evictedDirty[id] ?? committing[id]
    }

    /// Reads the stored customers among `ids` that are not in memory with one query per few hundred ids, into the
    /// cache; those the store does not have are remembered as new until ``endPreload()``, so applying a poll's
    /// events reads the store once instead of once per first-seen customer.
    mutating func preload(_ ids: some Sequence<String>) throws {
        var missing: [String] = []
        var seen: Set<String> = []
        for id in ids where !cache.contains(id) && evictedDirty[id] == nil && committing[id] == nil && !isGone(id) {
            if seen.insert(id).inserted { missing.append(id) }
        }
        guard !missing.isEmpty else { return }
        for stored in try store.customers(ids: missing) {
            seen.remove(stored.customerID)
            let record = try CustomerRecord(stored: stored, layout: layout)
            if let entry = cache.put(stored.customerID, record) { evicted(entry) }
        }
        absent = seen
    }

    /// Forgets what ``preload(_:)`` found absent: it holds only while nothing else writes the store.
    mutating func endPreload() {
        absent.removeAll(keepingCapacity: true)
    }

    mutating func withRecord<R>(
        _ id: String, make: () -> CustomerRecord, _ body: (inout CustomerRecord) throws -> R
    ) throws -> R {
        // Hot path: a cached customer is updated in place, without copying the record (one lookup, not two).
        var cached = false
        let updated = try cache.modify(id) { record in
            cached = true
            return try body(&record)
        }
        if cached, let updated {
            dirty.insert(id)
            return updated
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
        guard let owned else { return try allCustomers(after: after, limit: limit) }
        // Pages of every stored customer, filtered, until `limit` owned ones or the end: the engine ends a walk at
        // the first short page.
        var result: [CustomerRecord] = []
        var cursor = after
        while result.count < limit {
            let page = try allCustomers(after: cursor, limit: limit)
            result += page.lazy.filter { owned.contains($0.partition) }.prefix(limit - result.count)
            guard page.count == limit, let last = page.last else { break }
            cursor = last.customerID
        }
        return result
    }

    private mutating func allCustomers(after: String?, limit: Int) throws -> [CustomerRecord] {
        guard limit > 0 else { return [] }
        // Ids first (the primary-key index alone), then only the rows not in memory: the re-evaluation passes walk
        // every customer, and reading each one's state from SQLite when the cache holds it was wasted work.
        let storedIDs = try store.customerIDs(afterID: after, limit: limit)
        var found = storedIDs.map(peek)
        if found.contains(where: { $0 == nil }) {
            let missing = zip(storedIDs, found).compactMap { $1 == nil ? $0 : nil }
            var loaded: [String: CustomerRecord] = [:]
            for row in try store.customers(ids: missing) {
                loaded[row.customerID] = try CustomerRecord(stored: row, layout: layout)
            }
            for index in found.indices where found[index] == nil { found[index] = loaded[storedIDs[index]] }
        }
        var records = zip(storedIDs, found).compactMap { id, record in
            record.flatMap { peek(id) != nil || !isGone(id) ? $0 : nil }
        }
        // The batch being committed may already be in the store's page, or not yet.
        let inPage = committingNewcomers.isEmpty ? [] : Set(storedIDs)
        let fresh = newcomers.union(committingNewcomers).filter { id in
            (after.map { $0.precedesInByteOrder(id) } ?? true) && !inPage.contains(id)
        }
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
            for row in page where owned?.contains(row.partition) ?? true {
                if peek(row.customerID) == nil, isGone(row.customerID) { continue }
                let record = try peek(row.customerID) ?? CustomerRecord(stored: row, layout: layout)
                if let at = record.timerDueAt, at <= time { due[row.customerID] = record }
            }
            guard page.count == 5_000, let last = page.last, let at = last.timerDueAt else { break }
            after = (at, last.customerID)
        }
        for id in dirty where due[id] == nil {
            if let record = peek(id), let at = record.timerDueAt, at <= time { due[id] = record }
        }
        for id in committing.keys where due[id] == nil {
            if let record = peek(id), let at = record.timerDueAt, at <= time { due[id] = record }
        }
        return due.values.sorted(by: CustomerRecord.firesBefore)
    }

    /// Adds every changed customer to `batch` and keeps the changed records as `committing` until
    /// ``committed()`` (the batch is about to be committed).
    mutating func drainChanges(into batch: inout StoreBatch) {
        precondition(committing.isEmpty, "a batch was drained while the previous one was being committed")
        for id in dirty {
            guard let record = peek(id) else { continue }
            committing[id] = record
            batch.customers.append(StoredCustomer(
                customerID: record.customerID, partition: record.partition, state: record.state.encoded(layout: layout),
                segmentID: record.segmentID, segmentSince: record.segmentSince, transitionSeq: record.transitionSeq,
                eventCount: record.eventCount, lastEventAt: record.state.lastEventAt, timerDueAt: record.timerDueAt,
                audiences: record.audiences.encoded()))
        }
        dirty.removeAll(keepingCapacity: true)
        evictedDirty.removeAll(keepingCapacity: true)
        swap(&committingNewcomers, &newcomers)
        batch.removedCustomers.append(contentsOf: removed.keys.sorted { $0.precedesInByteOrder($1) })
        committingRemoved = Set(removed.keys)
        removed.removeAll(keepingCapacity: true)
    }

    /// Forgets `id` in memory; the next drained batch deletes it from the store (``StoreBatch/removedCustomers``).
    mutating func remove(_ id: String) {
        removed[id] = peek(id)?.partition ?? removed[id] ?? 0
        _ = cache.remove(id)
        dirty.remove(id)
        evictedDirty[id] = nil
        newcomers.remove(id)
        committing[id] = nil
        committingNewcomers.remove(id)
    }

    /// The partition of a customer in memory, or of one removed in this batch (whose last change is still queued).
    /// Customers removed (erased or merged away) since the last drain, with their partitions.
    var removedPartitions: [String: Int32] { removed }

    func partition(of id: String) -> Int32? {
        peek(id)?.partition ?? removed[id]
    }

    private func isGone(_ id: String) -> Bool {
        removed[id] != nil || committingRemoved.contains(id)
    }

    /// The drained batch is in the store now: its records need not be held beside the cache any more.
    mutating func committed() {
        committing.removeAll(keepingCapacity: true)
        committingNewcomers.removeAll(keepingCapacity: true)
        committingRemoved.removeAll(keepingCapacity: true)
    }

    /// Empties the cache (after a rebalance, other partitions' customers are not ours any more). Only between
    /// batches: a committed working set has nothing dirty to lose.
    mutating func reset() {
        precondition(dirty.isEmpty && committing.isEmpty, "the working set was reset with uncommitted changes")
        cache = LRUCache(capacity: capacity)
        absent.removeAll()
    }

    private func load(_ id: String) throws -> CustomerRecord? {
        if let evicted = evictedDirty[id] ?? committing[id] { return evicted }
        if absent.contains(id) || isGone(id) { return nil }
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
