/// A binary min-heap of (time, customer index): which synthetic shopper acts next. Ties go to the lower
/// index, so the merged stream is deterministic.
public struct TimeOrderedQueue: Sendable {
    public init() {}

    private var entries: [(time: Int64, index: Int)] = []

    public var isEmpty: Bool { entries.isEmpty }

    /// The earliest entry without removing it.
    public var first: (time: Int64, index: Int)? { entries.first }

    public mutating func push(time: Int64, index: Int) {
        entries.append((time, index))
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.precedes(entries[child], entries[parent]) else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    public mutating func pop() -> (time: Int64, index: Int)? {
        guard let first = entries.first else { return nil }
        let last = entries.removeLast()
        guard !entries.isEmpty else { return first }
        entries[0] = last
        var parent = 0
        while true {
            var smallest = parent
            let left = 2 * parent + 1
            let right = left + 1
            if left < entries.count, Self.precedes(entries[left], entries[smallest]) { smallest = left }
            if right < entries.count, Self.precedes(entries[right], entries[smallest]) { smallest = right }
            guard smallest != parent else { break }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
        return first
    }

    private static func precedes(_ a: (time: Int64, index: Int), _ b: (time: Int64, index: Int)) -> Bool {
        a.time != b.time ? a.time < b.time : a.index < b.index
    }
}
