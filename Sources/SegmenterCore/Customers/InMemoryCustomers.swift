/// Every customer in memory, for `replay` and tests: a ``CustomerDirectory`` with the same orders the daemon's
/// SQLite store gives (walk keys, timers by due time then id).
public struct InMemoryCustomers: CustomerDirectory, Sendable {
    /// Customers in first-seen order.
    public private(set) var records: [CustomerRecord] = []
    private var index: [String: Int] = [:]
    /// Positions in walk-key order. The engine hands out ordinals in creation order, so a newcomer is appended; only
    /// a record created out of order (a test's hand-made ordinal) is inserted further back.
    private var walk: [Int] = []
    /// Positions by exact sample level (``CustomerSample/level(of:)``), each in creation order.
    private var levels = [[Int]](repeating: [], count: 64)
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
            let key = records[position].walkKey
            if let last = walk.last, key < records[last].walkKey {
                walk.insert(position, at: lowerBound(after: key))
            } else {
                walk.append(position)
            }
            levels[CustomerSample.level(of: id)].append(position)
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

    public func customers(after: CustomerWalkKey?, limit: Int) -> [CustomerRecord] {
        guard limit > 0 else { return [] }
        var result: [CustomerRecord] = []
        result.reserveCapacity(min(limit, walk.count))
        var next = after.map(lowerBound(after:)) ?? 0
        while result.count < limit, next < walk.count {
            if isLive(walk[next]) { result.append(records[walk[next]]) }
            next += 1
        }
        return result
    }

    public func sample(minimumLevel: Int) -> [CustomerRecord] {
        // Sorted as (ordinal, position) pairs, not as records: comparing walk keys copies ids. Only equal ordinals
        // (hand-made records) need the id order, fixed up run by run.
        var places = Array(levels[max(0, min(minimumLevel, 63))...].joined().lazy.filter(isLive)
            .map { (ordinal: records[$0].ordinal, position: $0) })
        places.sort { $0.ordinal != $1.ordinal ? $0.ordinal < $1.ordinal : $0.position < $1.position }
        var start = 0
        while start < places.count {
            var end = start + 1
            while end < places.count, places[end].ordinal == places[start].ordinal { end += 1 }
            if end - start > 1 {
                places[start..<end].sort {
                    records[$0.position].customerID.precedesInByteOrder(records[$1.position].customerID)
                }
            }
            start = end
        }
        return places.map { records[$0.position] }
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

    /// The first position in ``walk`` whose walk key follows `after`.
    private func lowerBound(after: CustomerWalkKey) -> Int {
        var low = 0, high = walk.count
        while low < high {
            let middle = (low + high) / 2
            if !(after < records[walk[middle]].walkKey) {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return low
    }
}
