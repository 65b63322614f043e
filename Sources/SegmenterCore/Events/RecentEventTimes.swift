/// The times of the most recent events in arrival order, and sorted, so that their median, the stream's robust
/// "now", costs a binary search and a short move per event. Raw (unclamped) times go in: when the stream really
/// jumps (a producer outage ends, a backfill starts), the median follows after half a window of events.
public struct RecentEventTimes: Sendable, Hashable {
    public let capacity: Int
    /// In arrival order, oldest first once full (a ring starting at `next`).
    private var ring: [Int64] = []
    private var next = 0
    private var sorted: [Int64] = []

    public init(capacity: Int, times: [Int64] = []) {
        self.capacity = max(1, capacity)
        for time in times.suffix(self.capacity) { insert(time) }
    }

    /// The times in arrival order (what a snapshot stores).
    public var inArrivalOrder: [Int64] {
        ring.count < capacity ? ring : Array(ring[next...] + ring[..<next])
    }

    /// The lower median; nil while empty.
    public var median: Int64? {
        sorted.isEmpty ? nil : sorted[(sorted.count - 1) / 2]
    }

    public mutating func insert(_ time: Int64) {
        if ring.count < capacity {
            ring.append(time)
        } else {
            let oldest = ring[next]
            ring[next] = time
            next = (next + 1) % capacity
            sorted.remove(at: position(of: oldest))
        }
        sorted.insert(time, at: position(of: time))
    }

    /// First index whose time is not less than `time`.
    private func position(of time: Int64) -> Int {
        var low = 0
        var high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if sorted[middle] < time { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
