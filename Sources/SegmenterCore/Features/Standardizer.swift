import Foundation

/// Turns raw feature vectors (user units) into the standardised, weighted space the model works in: per feature
/// `z = weight · (transform(x) − mean) / sd`, with running mean and variance kept by a numerically stable
/// (Welford-style) update. With a forgetting half-life (in observations) old observations fade, so the scale
/// follows drift; without one it is the exact running statistic.
public struct Standardizer: Sendable, Hashable {
    public let transforms: [FeatureTransform]
    public let weights: [Double]
    /// Half-life in observations; nil keeps every observation at full weight.
    public let forgettingHalfLife: Double?
    public internal(set) var totalWeight: Double
    public internal(set) var means: [Double]
    /// Weighted sum of squared deviations (M2 in Welford's notation).
    public internal(set) var squaredDeviations: [Double]
    /// Weight an observation keeps after one more arrives.
    let keep: Double
    /// `weight / scale` per feature (0 without spread), kept up to date by `observe`: `transform` runs many times
    /// per observation (timer probes), so it multiplies instead of taking square roots.
    private(set) var factors: [Double]

    public var dimensions: Int { transforms.count }

    public init(transforms: [FeatureTransform], weights: [Double], forgettingHalfLife: Double? = nil) {
        precondition(transforms.count == weights.count)
        self.transforms = transforms
        self.weights = weights
        self.forgettingHalfLife = forgettingHalfLife
        keep = forgettingHalfLife.map { exp2(-1 / $0) } ?? 1
        factors = [Double](repeating: 0, count: transforms.count)
        totalWeight = 0
        means = [Double](repeating: 0, count: transforms.count)
        squaredDeviations = [Double](repeating: 0, count: transforms.count)
    }

    public init(spec: FeatureSpec, forgettingHalfLife: Double? = nil) {
        self.init(
            transforms: spec.features.map(\.transform), weights: spec.features.map(\.weight),
            forgettingHalfLife: forgettingHalfLife)
    }

    /// Restores a standardiser from stored statistics.
    public init(
        transforms: [FeatureTransform], weights: [Double], forgettingHalfLife: Double?, totalWeight: Double,
        means: [Double], squaredDeviations: [Double]
    ) {
        self.init(transforms: transforms, weights: weights, forgettingHalfLife: forgettingHalfLife)
        self.totalWeight = totalWeight
        self.means = means
        self.squaredDeviations = squaredDeviations
        refreshFactors()
    }

    private mutating func refreshFactors() {
        for i in 0..<transforms.count {
            let sd = scale(i)
            factors[i] = sd > 0 ? weights[i] / sd : 0
        }
    }

    /// Adds one raw vector to the running statistics.
    public mutating func observe(_ raw: [Double]) {
        totalWeight = totalWeight * keep + 1
        let rate = 1 / totalWeight
        for i in 0..<transforms.count {
            let x = transforms[i].apply(raw[i])
            let delta = x - means[i]
            means[i] += delta * rate
            squaredDeviations[i] = squaredDeviations[i] * keep + delta * (x - means[i])
        }
        refreshFactors()
    }

    /// Standard deviation of feature `i` in transformed units.
    /// Replaces the statistics by those of `raw` (one row per customer, user units), keeping the evidence weight so
    /// that later observations blend in at the same rate. Refinement calls it so that the scales are those of the
    /// customers being clustered, each counted once, not those of the event stream (where every vector is seen at
    /// the moment of an event: recency 0, never lapsed).
    public mutating func refit(raw: [[Double]]) {
        guard !raw.isEmpty else { return }
        let n = Double(raw.count)
        if totalWeight <= 0 { totalWeight = n }
        for i in 0..<dimensions {
            var mean = 0.0
            for row in raw { mean += transforms[i].apply(row[i]) }
            mean /= n
            var deviations = 0.0
            for row in raw {
                let d = transforms[i].apply(row[i]) - mean
                deviations += d * d
            }
            means[i] = mean
            squaredDeviations[i] = deviations / n * totalWeight
        }
        refreshFactors()
    }

    /// `z` (standardised under `old`) expressed under these statistics.
    func restandardise(_ z: [Double], from old: Standardizer) -> [Double] {
        (0..<dimensions).map { i in
            let transformed = old.factors[i] != 0 ? z[i] / old.factors[i] + old.means[i] : old.means[i]
            return factors[i] * (transformed - means[i])
        }
    }

    public func standardDeviation(_ i: Int) -> Double {
        totalWeight > 0 ? (max(0, squaredDeviations[i]) / totalWeight).squareRoot() : 0
    }

    /// Smallest spread a feature is divided by. A feature that barely varies (in transformed units) would
    /// otherwise turn rounding noise into huge z-values and dominate every distance.
    public static let minimumScale = 0.01

    /// The divisor of feature `i`: its standard deviation, floored at ``minimumScale``; 0 before any spread.
    func scale(_ i: Int) -> Double {
        let sd = standardDeviation(i)
        return sd > 1e-12 ? max(sd, Self.minimumScale) : 0
    }

    /// Writes the standardised, weighted vector of `raw` into `z`. A feature with no spread yet maps to 0.
    public func transform(_ raw: [Double], into z: inout [Double]) {
        if z.count != dimensions {
            z = [Double](repeating: 0, count: dimensions)
        }
        for i in 0..<dimensions {
            z[i] = factors[i] * (transforms[i].apply(raw[i]) - means[i])
        }
    }

    /// Maps a point of the standardised space back to user units (used for segment profiles).
    public func invert(_ z: [Double]) -> [Double] {
        (0..<dimensions).map { i in
            let unweighted = weights[i] > 0 ? z[i] / weights[i] : 0
            return transforms[i].invert(unweighted * scale(i) + means[i])
        }
    }
}
