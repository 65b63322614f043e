/// Counts flaps: a customer who moves A → B and back to A within `window` milliseconds of event time, the kind of
/// change pair that sends a campaign and then its opposite. Keeps each customer's last move only.
public struct FlapCounter: Sendable {
    public let window: Int64
    public private(set) var flaps = 0
    public private(set) var changes = 0
    private var lastMove: [String: (from: Int, at: Int64)] = [:]

    public init(windowDays: Double = 7) {
        window = Int64(windowDays * 86_400_000)
    }

    public mutating func observe(_ change: SegmentChange) {
        changes += 1
        if let last = lastMove[change.customerID], last.from == change.segment?.id, change.at - last.at <= window {
            flaps += 1
        }
        if let from = change.previous?.id {
            lastMove[change.customerID] = (from, change.at)
        }
    }
}
