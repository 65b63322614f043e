/// Quintile cut points of recency (days since the last activity), frequency (active days) and monetary value
/// (total purchase value), computed from a bounded sample of customers, and the scoring of one customer against
/// them. Activity rather than purchases defines recency and frequency, as in the lifecycle model, so customers who
/// browse but have not bought yet are told apart too; for a shop whose only events are purchases both agree.
public struct RFMScale: Sendable, Hashable, Codable {
    /// Four ascending cut points each: a value above the k-th cut is in the (k + 1)-th fifth or higher.
    public var recencyCuts: [Double]
    public var frequencyCuts: [Double]
    public var monetaryCuts: [Double]

    public init(recencyCuts: [Double], frequencyCuts: [Double], monetaryCuts: [Double]) {
        self.recencyCuts = recencyCuts
        self.frequencyCuts = frequencyCuts
        self.monetaryCuts = monetaryCuts
    }

    /// Cut points from the customers of `sample` that have any activity, at `now` (epoch ms).
    public init(sample: [ActivitySummary], at now: Int64) {
        let active = sample.filter { !$0.isEmpty }
        recencyCuts = Self.quintileCuts(active.map { Self.daysSinceLastActivity($0, at: now) })
        frequencyCuts = Self.quintileCuts(active.map { Double($0.activeDays) })
        monetaryCuts = Self.quintileCuts(active.map(\.totalPurchaseValue))
    }

    /// The 20th, 40th, 60th and 80th percentiles (the sorted value at rank ⌈k·n/5⌉); all zero for no values.
    static func quintileCuts(_ values: [Double]) -> [Double] {
        guard !values.isEmpty else { return [0, 0, 0, 0] }
        let sorted = values.sorted()
        return (1...4).map { k in sorted[max(0, (k * sorted.count + 4) / 5 - 1)] }
    }

    /// 1 + the number of cut points `value` is above.
    static func score(_ value: Double, _ cuts: [Double]) -> Int {
        1 + cuts.reduce(0) { $0 + (value > $1 ? 1 : 0) }
    }

    static func daysSinceLastActivity(_ summary: ActivitySummary, at now: Int64) -> Double {
        Double(max(0, now - summary.lastActivityAt)) / 86_400_000
    }

    /// The scores of `summary` at `now`; nil for a customer with no activity.
    public func scores(_ summary: ActivitySummary, at now: Int64) -> RFMScores? {
        guard !summary.isEmpty else { return nil }
        return RFMScores(
            r: 6 - Self.score(Self.daysSinceLastActivity(summary, at: now), recencyCuts),
            f: Self.score(Double(summary.activeDays), frequencyCuts),
            m: Self.score(summary.totalPurchaseValue, monetaryCuts))
    }
}
