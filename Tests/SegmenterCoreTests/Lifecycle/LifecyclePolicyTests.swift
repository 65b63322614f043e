import Testing

@testable import SegmenterCore

@Suite("lifecycle stages")
struct LifecyclePolicyTests {
    static let day: Int64 = 86_400_000
    static let t0: Int64 = 1_772_323_200_000  // 2026-03-01T00:00:00Z
    let policy = LifecyclePolicy()
    let model = LifecycleModel(
        activity: RepeatActivityModel(variant: .mbgnbd, r: 0.64, alpha: 51, a: 0.81, b: 1.23),
        spend: SpendModel(p: 6.3, q: 3.6, v: 15), purchaseShare: 0.5,
        rfm: RFMScale(recencyCuts: [7, 14, 30, 60], frequencyCuts: [1, 2, 3, 5], monetaryCuts: [0, 10, 50, 100]))

    func summary(activeOn days: [Int64]) -> ActivitySummary {
        var s = ActivitySummary()
        for d in days { s.record(at: Self.t0 + d * Self.day, isPurchase: true, value: 20) }
        return s
    }

    @Test("time alone walks a customer forward through the stages, changing exactly at the announced instants")
    func walksForward() throws {
        for days: [Int64] in [[0], [0, 3, 9], [0, 7, 14, 21, 28, 35]] {
            let s = summary(activeOn: days)
            var now = s.lastActivityAt
            var stage = try #require(policy.stage(s, model: model, at: now))
            var seen = [stage]
            while let next = policy.nextStageChange(s, model: model, at: now) {
                #expect(next > now)
                #expect(policy.stage(s, model: model, at: next - 1) == stage)
                let after = try #require(policy.stage(s, model: model, at: next))
                #expect(after > stage, "time moved \(days) from \(stage) to \(after)")
                (stage, now) = (after, next)
                seen.append(stage)
            }
            #expect(stage == .lapsed, "\(days) ends \(seen)")
        }
    }

    @Test("a single active day is new for the configured days, a weekly customer is at risk sooner than a rare one")
    func ownRhythm() throws {
        let newcomer = summary(activeOn: [0])
        #expect(policy.stage(newcomer, model: model, at: Self.t0 + 6 * Self.day) == .new)
        #expect(policy.stage(newcomer, model: model, at: Self.t0 + 8 * Self.day) != .new)
        let weekly = summary(activeOn: Array(stride(from: 0, through: 70, by: 7)))
        let rare = summary(activeOn: [0, 70])
        let weeklyRisk = try #require(policy.nextStageChange(weekly, model: model, at: weekly.lastActivityAt))
        let rareRisk = try #require(policy.nextStageChange(rare, model: model, at: rare.lastActivityAt))
        #expect(weeklyRisk < rareRisk)
    }

    @Test("predictions: revenue is expected orders times expected value, and the settings are validated")
    func predictions() throws {
        let s = summary(activeOn: [0, 10, 20])
        let p = try #require(model.prediction(s, at: Self.t0 + 25 * Self.day, horizonDays: 90))
        #expect(p.expectedOrders > 0)
        #expect(abs(p.expectedRevenue - p.expectedOrders * p.expectedAverageValue) < 1e-9)
        #expect(policy.validationError() == nil)
        #expect(LifecyclePolicy(atRiskBelow: 0.1, lapsedBelow: 0.3).validationError() != nil)
    }
}
