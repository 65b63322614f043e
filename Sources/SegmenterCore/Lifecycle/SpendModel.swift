import Foundation

/// The Gamma-Gamma model of spend per purchase day (Fader, Hardie & Lee 2005, "RFM and CLV: using iso-value
/// curves for customer base analysis"): a customer's day values are Gamma(p, ν) with ν ~ Gamma(q, γ) across
/// customers (γ is `v` here, as in `lifetimes`). Like `lifetimes`, it is fitted on repeat purchase days only (the
/// first purchase day is left out) and on customers with at least one such day.
public struct SpendModel: Sendable, Hashable, Codable {
    public var p: Double
    public var q: Double
    public var v: Double

    public init(p: Double, q: Double, v: Double) {
        self.p = p
        self.q = q
        self.v = v
    }

    /// Mean day value across customers, E[Z] = p·γ / (q − 1) (infinite when q ≤ 1).
    public var populationAverageValue: Double {
        q > 1 ? p * v / (q - 1) : .infinity
    }

    /// Expected value of this customer's future purchase days given `days` repeat purchase days of mean value
    /// `average`: the population mean shrunk toward the customer's own as their days grow.
    public func expectedAverageValue(days: Double, average: Double) -> Double {
        guard days > 0, q > 1 else { return populationAverageValue }
        let weight = p * days / (p * days + q - 1)
        return (1 - weight) * populationAverageValue + weight * average
    }

    /// Expected day value for the customer `summary` describes.
    public func expectedAverageValue(_ summary: ActivitySummary) -> Double {
        expectedAverageValue(days: Double(summary.repeatValueDays), average: summary.averageRepeatValue ?? 0)
    }

    /// Fits p, q, γ by maximum likelihood on customers' (repeat value days, mean day value); pairs without a
    /// positive day and value are skipped. Nil when none is left or no finite likelihood was found.
    public static func fit(_ sample: [(days: Double, average: Double)]) -> SpendModel? {
        let data = sample.filter { $0.days > 0 && $0.average > 0 }
        guard !data.isEmpty else { return nil }
        let lg = SpecialFunctions.logGamma
        let meanValue = data.reduce(0) { $0 + $1.average } / Double(data.count)
        func model(_ w: [Double]) -> SpendModel {
            let e = w.map { exp(min(20, max(-20, $0))) }
            return SpendModel(p: e[0], q: e[1], v: e[2])
        }
        let best = NelderMead().minimize([0, 0, log(meanValue)]) { w in
            let m = model(w)
            var total = 0.0
            for (x, z) in data {
                let px = m.p * x
                total += lg(px + m.q) - lg(px) - lg(m.q) + m.q * log(m.v) + (px - 1) * log(z) + px * log(x)
                    - (px + m.q) * log(x * z + m.v)
            }
            return -total
        }
        guard best.value.isFinite else { return nil }
        return model(best.point)
    }
}
