/// Every customer in memory, for `replay` and tests: a ``CustomerDirectory`` with the same orders the daemon's
/// SQLite store gives (ids in byte order, timers by due time then id).
public struct InMemoryCustomers: CustomerDirectory, Sendable {
    /// Customers in first-seen order.
    public private(set) var records: [CustomerRecord] = []
    private var index: [String: Int] = [:]
    /// Positions in id order, plus a shorter sorted run of newcomers and the newest positions not sorted yet. Order
    /// is only needed when the engine walks customers (at a tick), so a newcomer costs an append; the walk sorts
    /// the tail into the run, and the run is merged into the whole order once it is an eighth of its size, so
    /// each customer is moved O(8) times in all instead of once per merge.
    private var ordered: [Int] = []
    private var newcomers: [Int] = []
    private var unsorted: [Int] = []
    private static let mergeAt = 256
    private var timers = TimeOrderedQueue()

    public init() {}

    public var count: Int { records.count }

    public mutating func withRecord<R>(
        _ id: String, make: () -> CustomerRecord, _ body: (inout CustomerRecord) throws -> R
    ) throws -> R {
        let position: Int
        if let known = index[id] {
            position = known
        } else {
            position = records.count
            index[id] = position
            records.append(make())
            unsorted.append(position)
        }
        let due = records[position].timerDueAt
        let result = try body(&records[position])
        noteTimer(position, before: due)
        return result
    }

    /// The record's slot stays (positions must not move) but leaves every index and walk: only `index` names live
    /// records, and the walks skip a position whose id `index` no longer maps to it.
    public mutating func remove(_ id: String) {
        guard let position = index.removeValue(forKey: id) else { return }
        var state = records[position].state
        state.slots = []
        state.recentEventIDs = []
        records[position] = CustomerRecord(customerID: id, partition: records[position].partition, state: state)
    }

    private func isLive(_ position: Int) -> Bool {
        index[records[position].customerID] == position
    }

    public func record(_ id: String) -> CustomerRecord? {
        index[id].map { records[$0] }
    }

    public mutating func update(_ record: CustomerRecord) {
        guard let position = index[record.customerID] else {
            preconditionFailure("update of a customer the directory never held: \(record.customerID)")
        }
        let due = records[position].timerDueAt
        records[position] = record
        noteTimer(position, before: due)
    }

    public mutating func customers(after: String?, limit: Int) -> [CustomerRecord] {
        guard limit > 0 else { return [] }
        sortNewcomers()
        var a = lowerBound(ordered, after: after), b = lowerBound(newcomers, after: after)
        var result: [CustomerRecord] = []
        result.reserveCapacity(limit)
        while result.count < limit, a < ordered.count || b < newcomers.count {
            let takeOrdered: Bool
            if a == ordered.count {
                takeOrdered = false
            } else if b == newcomers.count {
                takeOrdered = true
            } else {
                takeOrdered = records[ordered[a]].customerID.precedesInByteOrder(records[newcomers[b]].customerID)
            }
            let position = takeOrdered ? ordered[a] : newcomers[b]
            if takeOrdered { a += 1 } else { b += 1 }
            if isLive(position) { result.append(records[position]) }
        }
        return result
    }

    public mutating func customersDue(through time: Int64) -> [CustomerRecord] {
        var due: [CustomerRecord] = []
        var seen: Set<Int> = []
        while let next = timers.first, next.time <= time {
            _ = timers.pop()
            // The queue keeps stale entries of timers that moved since; only the record's current timer counts.
            guard isLive(next.index), records[next.index].timerDueAt == next.time, seen.insert(next.index).inserted
            else { continue }
            due.append(records[next.index])
        }
        due.sort(by: CustomerRecord.firesBefore)
        return due
    }

    private mutating func noteTimer(_ position: Int, before: Int64?) {
        if let due = records[position].timerDueAt, due != before { timers.push(time: due, index: position) }
    }

    private mutating func sortNewcomers() {
        guard !unsorted.isEmpty else { return }
        // The comparisons read a copy of the records (a shared buffer, not a copy of the elements): sorting a stored
        // array in place while the closure reads another stored property of `self` would overlap two accesses.
        let records = records
        let byID: (Int, Int) -> Bool = { records[$0].customerID.precedesInByteOrder(records[$1].customerID) }
        unsorted.sort(by: byID)
        newcomers = Self.merge(newcomers, unsorted, by: byID)
        unsorted.removeAll(keepingCapacity: true)
        if newcomers.count >= Swift.max(Self.mergeAt, ordered.count / 8) {
            ordered = Self.merge(ordered, newcomers, by: byID)
            newcomers.removeAll(keepingCapacity: true)
        }
    }

    private static func merge(_ x: [Int], _ y: [Int], by precedes: (Int, Int) -> Bool) -> [Int] {
        guard !x.isEmpty else { return y }
        guard !y.isEmpty else { return x }
        var merged: [Int] = []
        merged.reserveCapacity(x.count + y.count)
        var a = 0, b = 0
        while a < x.count || b < y.count {
            if b == y.count || (a < x.count && precedes(x[a], y[b])) {
                merged.append(x[a])
                a += 1
            } else {
                merged.append(y[b])
                b += 1
            }
        }
        return merged
    }

    /// The first position in `positions` (sorted by id) whose id follows `after`.
    private func lowerBound(_ positions: [Int], after: String?) -> Int {
        guard let after else { return 0 }
        var low = 0, high = positions.count
        while low < high {
            let middle = (low + high) / 2
            if !after.precedesInByteOrder(records[positions[middle]].customerID) {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return low
    }
}
