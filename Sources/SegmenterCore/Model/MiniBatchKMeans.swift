import Foundation

/// Settings of the online model (DESIGN §5).
public struct KMeansConfiguration: Sendable, Hashable {
    /// Number of segments. Default: 5.
    public var k: Int
    /// Vectors collected before k-means++ initialisation. Default: 2,000.
    public var initSample: Int
    /// Seed of the model's random choices (k-means++, re-seeding). Default: 42.
    public var seed: UInt64
    /// Half-life, in learned vectors, of a center's count: old evidence fades so centers follow drift.
    /// nil: plain 1/n learning (centers freeze as counts grow). Default: 50,000.
    public var forgettingHalfLife: Double?
    /// A center that wins no vector for this many learned vectors is re-seeded at a far point and gets a new id.
    /// Default: 100,000.
    public var reseedAfter: UInt64

    public init(
        k: Int = 5, initSample: Int = 2_000, seed: UInt64 = 42, forgettingHalfLife: Double? = 50_000,
        reseedAfter: UInt64 = 100_000
    ) {
        self.k = k
        self.initSample = initSample
        self.seed = seed
        self.forgettingHalfLife = forgettingHalfLife
        self.reseedAfter = reseedAfter
    }

    public func problems() -> [String] {
        var problems: [String] = []
        if !(1...1_000).contains(k) { problems.append("model.k: \(k) must be between 1 and 1000") }
        if initSample < k { problems.append("model.init_sample: \(initSample) must be at least k (\(k))") }
        if let h = forgettingHalfLife, !(h.isFinite && h > 0) {
            problems.append("model.forgetting_half_life: \(h) must be > 0 (or omitted to disable forgetting)")
        }
        if reseedAfter == 0 { problems.append("model.reseed_after: must be > 0") }
        return problems
    }
}

/// One cluster center with a stable id: the id stays while the center moves and changes only on re-seeding.
public struct Center: Sendable, Hashable {
    public var id: Int
    public var vector: [Double]
    /// Evidence behind the center (decayed when forgetting is on); the learning rate is 1/count.
    public var count: Double
    /// Value of ``MiniBatchKMeans/updates`` when this center last won a vector.
    public var lastWin: UInt64

    public init(id: Int, vector: [Double], count: Double, lastWin: UInt64) {
        self.id = id
        self.vector = vector
        self.count = count
        self.lastWin = lastWin
    }
}

/// Online mini-batch k-means (Sculley 2010) with k-means++ initialisation over the first vectors, per-center
/// learning rate 1/n, optional forgetting, re-seeding of dead centers and stable center ids. Pure: all
/// randomness comes from its own seeded generator, which is part of its state.
public struct MiniBatchKMeans: Sendable, Hashable {
    public let configuration: KMeansConfiguration
    public let dimensions: Int
    public internal(set) var centers: [Center]
    /// Vectors kept until initialisation (empty afterwards).
    public internal(set) var sample: [[Double]]
    /// Number of vectors learned since initialisation.
    public internal(set) var updates: UInt64
    public internal(set) var nextID: Int
    /// Running (exponentially weighted, ~10,000 vectors) mean squared distance of learned vectors to their center.
    public internal(set) var inertia: Double
    public internal(set) var rng: SplitMix64
    /// Farthest vector from its center seen recently: where a dead center is re-seeded.
    public internal(set) var farthest: [Double]
    public internal(set) var farthestDistance: Double
    let keep: Double

    public var isInitialised: Bool { !centers.isEmpty }

    public init(configuration: KMeansConfiguration, dimensions: Int) {
        self.configuration = configuration
        self.dimensions = dimensions
        centers = []
        sample = []
        updates = 0
        nextID = 1
        inertia = 0
        rng = SplitMix64(seed: configuration.seed)
        farthest = []
        farthestDistance = 0
        keep = configuration.forgettingHalfLife.map { exp2(-1 / $0) } ?? 1
    }

    /// Restores a model from stored parts.
    public init(
        configuration: KMeansConfiguration, dimensions: Int, centers: [Center], sample: [[Double]], updates: UInt64,
        nextID: Int, inertia: Double, rng: SplitMix64, farthest: [Double], farthestDistance: Double
    ) {
        self.init(configuration: configuration, dimensions: dimensions)
        self.centers = centers
        self.sample = sample
        self.updates = updates
        self.nextID = nextID
        self.inertia = inertia
        self.rng = rng
        self.farthest = farthest
        self.farthestDistance = farthestDistance
    }

    /// Before initialisation, keeps `z`; returns true when this vector completed the sample and the centers
    /// were just initialised.
    public mutating func collect(_ z: [Double]) -> Bool {
        precondition(!isInitialised)
        sample.append(z)
        guard sample.count >= configuration.initSample else { return false }
        initialise(from: sample)
        sample = []
        return true
    }

    /// k-means++ seeding over `points`. Duplicated points cannot make two centers coincide unless fewer
    /// than k distinct points exist.
    mutating func initialise(from points: [[Double]]) {
        var chosen: [[Double]] = [points[Int(rng.next() % UInt64(points.count))]]
        var best = points.map { Self.squaredDistance($0, chosen[0]) }
        while chosen.count < configuration.k {
            let total = best.reduce(0, +)
            var next: Int
            if total <= 0 {
                next = Int(rng.next() % UInt64(points.count))
            } else {
                var target = Double(rng.next() >> 11) / Double(1 << 53) * total
                next = points.count - 1
                for (i, d) in best.enumerated() {
                    target -= d
                    if target < 0 {
                        next = i
                        break
                    }
                }
            }
            chosen.append(points[next])
            for i in points.indices {
                best[i] = min(best[i], Self.squaredDistance(points[i], points[next]))
            }
        }
        centers = chosen.map { vector in
            defer { nextID += 1 }
            return Center(id: nextID, vector: vector, count: 1, lastWin: 0)
        }
    }

    /// Index and squared distance of the center nearest to `z`.
    @inline(__always)
    public func nearest(_ z: [Double]) -> (index: Int, squaredDistance: Double) {
        var bestIndex = 0
        var best = Double.infinity
        for i in centers.indices {
            let d = Self.squaredDistance(z, centers[i].vector)
            if d < best {
                best = d
                bestIndex = i
            }
        }
        return (bestIndex, best)
    }

    public func index(ofID id: Int) -> Int? {
        centers.firstIndex { $0.id == id }
    }

    /// Moves the nearest center towards `z` (learning rate 1/count) and re-seeds a center that has been dead
    /// for too long. Returns the ids retired by re-seeding (usually none).
    @discardableResult
    public mutating func learn(_ z: [Double], nearest: (index: Int, squaredDistance: Double)) -> Int? {
        updates += 1
        if keep < 1 {
            for i in centers.indices {
                centers[i].count *= keep
            }
        }
        let winner = nearest.index
        centers[winner].count += 1
        centers[winner].lastWin = updates
        let rate = 1 / centers[winner].count
        for j in 0..<dimensions {
            centers[winner].vector[j] += (z[j] - centers[winner].vector[j]) * rate
        }
        let alpha = 1 / Double(min(updates, 10_000))
        inertia += (nearest.squaredDistance - inertia) * alpha
        farthestDistance *= 0.9999
        if nearest.squaredDistance >= farthestDistance {
            farthestDistance = nearest.squaredDistance
            farthest = z
        }
        return reseedIfDead(probe: Int(updates % UInt64(centers.count)))
    }

    private mutating func reseedIfDead(probe: Int) -> Int? {
        guard updates - centers[probe].lastWin > configuration.reseedAfter, !farthest.isEmpty else { return nil }
        let retired = centers[probe].id
        centers[probe] = Center(id: nextID, vector: farthest, count: 1, lastWin: updates)
        nextID += 1
        farthest = []
        farthestDistance = 0
        return retired
    }

    /// Squared Euclidean distance.
    @inline(__always)
    public static func squaredDistance(_ a: [Double], _ b: [Double]) -> Double {
        var sum = 0.0
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                for i in 0..<a.count {
                    let d = a[i] - b[i]
                    sum += d * d
                }
            }
        }
        return sum
    }
}
