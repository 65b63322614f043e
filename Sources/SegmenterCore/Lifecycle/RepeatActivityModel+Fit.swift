import Foundation

/// Maximum-likelihood fitting of ``RepeatActivityModel`` on a bounded sample of observations.
extension RepeatActivityModel {
    /// Identical observations folded into one with a weight: one-time customers of the same age, which are a large
    /// share of most shops, then cost one likelihood term.
    struct WeightedObservations {
        var observations: [RepeatActivityObservation] = []
        var weights: [Double] = []
        /// Index ranges of observations sharing one x, so the x-only terms are computed once per range.
        var groups: [(x: Double, range: Range<Int>)] = []

        init(_ sample: [RepeatActivityObservation]) {
            let sorted = sample.sorted { ($0.repeatDays, $0.recency, $0.age) < ($1.repeatDays, $1.recency, $1.age) }
            for o in sorted {
                if let last = observations.last, last == o {
                    weights[weights.count - 1] += 1
                } else {
                    observations.append(o)
                    weights.append(1)
                }
            }
            var start = 0
            for i in 1...observations.count where i == observations.count
                || observations[i].repeatDays != observations[start].repeatDays {
                groups.append((observations[start].repeatDays, start..<i))
                start = i
            }
        }
    }

    /// Fits r, α, a, b by maximum likelihood (Nelder–Mead on log-parameters, restarted from its best point, from a
    /// fixed start: the result depends on the sample only). Observations are in days. Nil for an empty sample or
    /// when no finite likelihood was found.
    public static func fit(_ sample: [RepeatActivityObservation], variant: Variant = .mbgnbd) -> RepeatActivityModel? {
        guard !sample.isEmpty else { return nil }
        let data = WeightedObservations(sample)
        let meanAge = sample.reduce(0) { $0 + $1.age } / Double(sample.count)
        let meanRepeats = sample.reduce(0) { $0 + $1.repeatDays } / Double(sample.count)
        let start = [0, log(max(1, meanAge / (1 + meanRepeats))), 0, 0]
        func model(_ p: [Double]) -> RepeatActivityModel {
            let q = p.map { exp(min(20, max(-20, $0))) }
            return RepeatActivityModel(variant: variant, r: q[0], alpha: q[1], a: q[2], b: q[3])
        }
        let best = NelderMead().minimize(start) { p in
            -model(p).logLikelihood(of: data)
        }
        guard best.value.isFinite else { return nil }
        return model(best.point)
    }

    /// Total log-likelihood of a weighted sample.
    func logLikelihood(of data: WeightedObservations) -> Double {
        var total = 0.0
        for group in data.groups {
            let common = commonLogLikelihood(repeatDays: group.x)
            let logDropout = dropoutBase(group.x).map { log(a) - log($0) }
            for i in group.range {
                total += data.weights[i] * logLikelihood(data.observations[i], common: common, logDropout: logDropout)
            }
        }
        return total
    }
}
