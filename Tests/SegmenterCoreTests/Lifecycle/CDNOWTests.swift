import Foundation
import Testing

@testable import SegmenterCore

/// The lifecycle model on real data: the CDNOW purchases that Fader, Hardie & Lee's papers use, fetched at test
/// time (see ``CDNOWData``).
@Suite("lifecycle model on CDNOW")
struct CDNOWTests {
    /// CPU time of the calling thread: a fit's cost on a machine shared with other work.
    static func threadCPUSeconds() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    @Test("plain BG/NBD fitted on the paper's 2,357-customer sample recovers its published parameters")
    func recoversPublishedParameters() throws {
        let data = try CDNOWData.sample()
        #expect(data.customers.count == 2_357)
        let observations = data.customers.compactMap {
            RepeatActivityObservation($0.summary, at: CDNOWData.calibrationEnd)
        }
        let model = try #require(RepeatActivityModel.fit(observations, variant: .bgnbd))
        // The paper's time unit is the week; the model's is the day (α scales with the unit, r, a, b do not).
        #expect(abs(model.r - 0.243) < 0.005, "r = \(model.r)")
        #expect(abs(model.alpha / 7 - 4.414) < 0.005, "α = \(model.alpha / 7) weeks")
        #expect(abs(model.a - 0.793) < 0.005, "a = \(model.a)")
        #expect(abs(model.b - 2.426) < 0.005, "b = \(model.b)")
    }

    @Test("on all 23,570 CDNOW customers, 39 weeks predict the next 39 better than lifetimes' BG/NBD + Gamma-Gamma")
    func predictsTheHoldout() throws {
        let data = try CDNOWData.master()
        #expect(data.customers.count == 23_570)
        let now = CDNOWData.calibrationEnd
        let started = ContinuousClock.now, startedCPU = Self.threadCPUSeconds()
        let model = try #require(LifecycleModel.fit(samples: data.customers.map(\.summary), at: now))
        let fitTime = ContinuousClock.now - started, fitCPU = Self.threadCPUSeconds() - startedCPU
        var orders: [Double] = [], revenue: [Double] = [], pAlive: [Double] = []
        for customer in data.customers {
            let p = try #require(model.prediction(customer.summary, at: now, horizonDays: 273))
            orders.append(p.expectedOrders)
            revenue.append(p.expectedRevenue)
            pAlive.append(p.pAlive)
        }
        let actualOrders = data.customers.map { Double($0.holdoutPurchaseDays) }
        let actualRevenue = data.customers.map(\.holdoutValue)
        let mae = HoldoutMetrics.meanAbsoluteError(orders, actualOrders)
        let r = HoldoutMetrics.pearson(orders, actualOrders)
        let total = orders.reduce(0, +), actualTotal = actualOrders.reduce(0, +)
        let auc = HoldoutMetrics.auc(pAlive, data.customers.map { $0.holdoutPurchaseDays > 0 })
        let revenueMAE = HoldoutMetrics.meanAbsoluteError(revenue, actualRevenue)
        print("""
            CDNOW 39+39 weeks: \(model.activity) \(model.spend.map { "\($0)" } ?? "no spend model")
            purchases MAE \(mae), r \(r), total \(total) vs \(actualTotal), p_alive AUC \(auc), \
            revenue MAE \(revenueMAE); fit of \(data.customers.count) summaries took \(fitTime) (\(fitCPU) s of CPU)
            """)
        #expect(mae <= 0.80, "purchases MAE \(mae)")
        #expect(revenueMAE <= 32, "revenue MAE \(revenueMAE)")
        // Issue 24's targets that MBG/NBD does not reach on CDNOW (r 0.670, total −19%, AUC 0.700; a two-class
        // mixture and Pareto/NBD do not either: docs/lifecycle.md). Still asserted: when a better model meets them,
        // this known issue stops being recorded and the test fails until the marker is removed.
        withKnownIssue("issue 24: r, total and p_alive AUC targets not met on CDNOW yet") {
            #expect(r >= 0.68, "Pearson r \(r)")
            #expect(abs(total / actualTotal - 1) <= 0.10, "total \(total) predicted vs \(actualTotal) actual")
            #expect(auc >= 0.75, "p_alive AUC \(auc)")
        }
    }
}
