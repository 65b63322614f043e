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
    /// Seen for the first time since the last commit (not in the store yet), and their walk keys in creation order
    /// — which is walk order, since the engine hands out ordinals as it creates customers.
    private var newcomers: Set<String> = []
    private var newcomerKeys: [CustomerWalkKey] = []
    /// The changed records of the batch being committed, and its newcomers: what the store may not show yet.
    private var committing: [String: CustomerRecord] = [:]
    private var committingNewcomers: Set<String> = []
    private var committingNewcomerKeys: [CustomerWalkKey] = []
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

    /// The timer of the newest copy of a customer in memory, read without copying the record.
    private func timer(of id: String) -> Int64? {
        if let cached = cache.read(id, \.timerDueAt) { return cached }
        return (evictedDirty[id] ?? committing[id])?.timerDueAt
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
        var isNew = false
        var record = try load(id) ?? {
            isNew = true
            return make()
        }()
        let result = try body(&record)
        if isNew {
            newcomers.insert(id)
            newcomerKeys.append(record.walkKey)
        }
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

    mutating func customers(after: CustomerWalkKey?, limit: Int) throws -> [CustomerRecord] {
        guard let owned else { return try allCustomers(after: after, limit: limit) }
        // Pages of every stored customer, filtered, until `limit` owned ones or the end: the engine ends a walk at
        // the first short page.
        var result: [CustomerRecord] = []
        var cursor = after
        while result.count < limit {
            let page = try allCustomers(after: cursor, limit: limit)
            result += page.lazy.filter { owned.contains($0.partition) }.prefix(limit - result.count)
            guard page.count == limit, let last = page.last else { break }
            cursor = last.walkKey
        }
        return result
    }

    /// The stored sample (through the store's sample-level index) overlaid with what memory holds newer, plus the
    /// newcomers at that level the store does not have yet.
    mutating func sample(minimumLevel: Int) throws -> [CustomerRecord] {
        var members: [String: CustomerRecord] = [:]
        for row in try store.customers(sampleLevelAtLeast: minimumLevel) where owned?.contains(row.partition) ?? true {
            if let newer = peek(row.customerID) {
                members[row.customerID] = newer
            } else if !isGone(row.customerID) {
                members[row.customerID] = try CustomerRecord(stored: row, layout: layout)
            }
        }
        for key in committingNewcomerKeys + newcomerKeys
        where members[key.customerID] == nil && CustomerSample.level(of: key.customerID) >= minimumLevel {
            if let record = peek(key.customerID) { members[key.customerID] = record }
        }
        // Sorted by ordinal first: building walk keys for every comparison copied ids.
        return members.values.sorted {
            CustomerWalkKey.walksBefore($0.ordinal, $0.customerID, $1.ordinal, $1.customerID)
        }
    }

    /// The walk over every customer, committed or not: a page of the store's walk index merged with the newcomers in
    /// memory, which are already in walk order (no sort).
    private mutating func allCustomers(after: CustomerWalkKey?, limit: Int) throws -> [CustomerRecord] {
        guard limit > 0 else { return [] }
        // Pages of positions (the walk index alone) until `limit` stored customers that no newcomer in memory
        // supersedes, then only the rows not in memory are read.
        var stored: [CustomerRecord] = []
        var cursor = after.map { (ordinal: $0.ordinal, id: $0.customerID) }
        while stored.count < limit {
            let walk = try store.customerWalk(after: cursor, limit: limit)
            let ids = walk.map(\.id).filter { !isNewcomer($0) }
            stored += try resolve(ids)
            guard walk.count == limit, let last = walk.last else { break }
            cursor = last
        }
        let fresh = newcomersInMemory(after: after, limit: limit)
        guard !fresh.isEmpty else { return Array(stored.prefix(limit)) }
        var merged: [CustomerRecord] = []
        merged.reserveCapacity(min(limit, stored.count + fresh.count))
        var a = 0, b = 0
        while merged.count < limit, a < stored.count || b < fresh.count {
            if b == fresh.count || (a < stored.count && stored[a].walkKey < fresh[b].walkKey) {
                merged.append(stored[a])
                a += 1
            } else {
                merged.append(fresh[b])
                b += 1
            }
        }
        return merged
    }

    /// The records of stored `ids`, in order: the newest copy in memory, else the row (one query for all of them);
    /// customers removed since the last commit are left out.
    private mutating func resolve(_ ids: some Sequence<String>) throws -> [CustomerRecord] {
        var found = ids.map { (id: $0, record: peek($0)) }
        guard found.contains(where: { $0.record == nil }) else { return found.compactMap(\.record) }
        var loaded: [String: CustomerRecord] = [:]
        for row in try store.customers(ids: found.lazy.filter { $0.record == nil }.map(\.id)) {
            loaded[row.customerID] = try CustomerRecord(stored: row, layout: layout)
        }
        for index in found.indices where found[index].record == nil && !isGone(found[index].id) {
            found[index].record = loaded[found[index].id]
        }
        return found.compactMap(\.record)
    }

    /// Created since the last finished commit: the store has no row for it yet, or an older one (erased and
    /// created again), which walks must not return at the old row's place.
    private func isNewcomer(_ id: String) -> Bool {
        newcomers.contains(id) || committingNewcomers.contains(id)
    }

    /// Up to `limit` customers created since the last finished commit whose walk keys follow `after`, in walk order.
    private func newcomersInMemory(after: CustomerWalkKey?, limit: Int) -> [CustomerRecord] {
        var result: [CustomerRecord] = []
        for keys in [committingNewcomerKeys, newcomerKeys] where result.count < limit {
            var low = 0, high = keys.count
            if let after {
                while low < high {
                    let middle = (low + high) / 2
                    if !(after < keys[middle]) { low = middle + 1 } else { high = middle }
                }
            }
            for key in keys[low...] {
                guard result.count < limit else { break }
                guard isNewcomer(key.customerID), let record = peek(key.customerID)
                else { continue }
                result.append(record)
            }
        }
        return result
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
        // Timers are read in place: copying every changed record at every tick showed in profiles.
        for id in dirty where due[id] == nil {
            if let at = timer(of: id), at <= time, let record = peek(id) { due[id] = record }
        }
        for id in committing.keys where due[id] == nil {
            if let at = timer(of: id), at <= time, let record = peek(id) { due[id] = record }
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
            batch.customers.append(record.stored(layout: layout))
        }
        dirty.removeAll(keepingCapacity: true)
        evictedDirty.removeAll(keepingCapacity: true)
        swap(&committingNewcomers, &newcomers)
        swap(&committingNewcomerKeys, &newcomerKeys)
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
        committingNewcomerKeys.removeAll(keepingCapacity: true)
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
