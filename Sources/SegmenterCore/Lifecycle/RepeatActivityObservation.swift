/// One customer's history as the repeat-activity model sees it, in days: `repeatDays` (x, active days after the
/// first), `recency` (t_x, from the first to the last activity) and `age` (T, from the first activity to now).
public struct RepeatActivityObservation: Sendable, Hashable {
    static let dayMs = 86_400_000.0

    public var repeatDays: Double
    public var recency: Double
    public var age: Double

    public init(repeatDays: Double, recency: Double, age: Double) {
        self.repeatDays = repeatDays
        self.recency = recency
        self.age = max(age, recency)
    }

    /// The observation of `summary` at `now` (epoch ms), or nil for a customer with no activity yet.
    public init?(_ summary: ActivitySummary, at now: Int64) {
        guard !summary.isEmpty else { return nil }
        let first = Double(summary.firstActivityAt)
        self.init(
            repeatDays: Double(summary.activeDays) - 1,
            recency: (Double(summary.lastActivityAt) - first) / Self.dayMs,
            age: (Double(max(now, summary.lastActivityAt)) - first) / Self.dayMs)
    }
}
