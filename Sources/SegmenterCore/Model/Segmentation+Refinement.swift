/// Periodic Lloyd refinement (DESIGN §5, issue #11). Online updates alone leave the centers well short of what a
/// batch k-means finds on the same customers (1.2–1.6× its inertia on realistic shops): each center moves only
/// towards the vectors it wins, once, when they arrive, and the event stream over-represents the busiest
/// customers. Lloyd passes over the customers' current vectors, each customer counted once, reach the batch
/// optimum; k-means++ restarts on a subsample keep the model out of a poor local optimum. A center that continues
/// from the current model keeps its id (so segments keep ids and names); a restart's centers are matched to the old
/// ones as a retrain's are. A center that no customer is nearest to is moved to the customer farthest from their
/// center, with a new id, instead of being shown as an empty segment.
extension Segmentation {
    /// What one refinement did.
    public struct RefinementReport: Sendable, Equatable {
        /// Customers' vectors the passes ran over.
        public var customers: Int
        public var passes: Int
        /// Mean squared distance of those vectors to their nearest center before and after.
        public var inertiaBefore: Double
        public var inertiaAfter: Double
        /// True when a k-means++ restart beat the current centers (ids were then matched).
        public var restarted: Bool
        /// Ids that no longer name a segment.
        public var retiredIDs: [Int]
    }

    /// Vectors of a subsample that the restarts compete on: enough to tell a better optimum for k ≤ 50 apart, and
    /// small enough that the restarts cost less than the passes over the whole sample.
    static let restartSubsample = 5_000

    /// Re-fits the standardiser to `raw` (each customer's current features in user units), then runs Lloyd passes
    /// over the standardised vectors from the current centers and from `restarts` k-means++ starts (compared on a
    /// subsample), until no vector changes center or `maxPasses` ran; installs the result as a new model version.
    @discardableResult
    public mutating func refine(raw: [[Double]], maxPasses: Int, restarts: Int = 4) -> RefinementReport? {
        let k = kmeans.centers.count
        guard k > 0, raw.count >= k, maxPasses > 0 else { return nil }
        let old = standardizer
        standardizer.refit(raw: raw)
        for j in kmeans.centers.indices {
            kmeans.centers[j].vector = standardizer.restandardise(kmeans.centers[j].vector, from: old)
        }
        let vectors = raw.map { row in
            var z: [Double] = []
            standardizer.transform(row, into: &z)
            return z
        }
        let current = kmeans.centers.map(\.vector)
        let before = Self.lloyd(vectors, from: current, maxPasses: 1).inertiaBefore
        var start = current
        var restarted = false
        if restarts > 0 {
            // Evenly spread over the sample, which is in walk order: a prefix would hold only the oldest customers.
            let step = max(1, vectors.count / Self.restartSubsample)
            let subsample = stride(from: 0, to: vectors.count, by: step).prefix(Self.restartSubsample).map {
                vectors[$0]
            }
            let trialPasses = min(maxPasses, 10)
            var best = Self.lloyd(subsample, from: current, maxPasses: trialPasses).inertia
            var seeding = MiniBatchKMeans(configuration: configuration.kmeans, dimensions: layout.dimensions)
            seeding.rng = SplitMix64(seed: configuration.kmeans.seed &+ UInt64(bitPattern: version) &* 0x9E37)
            for _ in 0..<restarts {
                seeding.initialise(from: subsample)
                let trial = Self.lloyd(subsample, from: seeding.centers.map(\.vector), maxPasses: trialPasses)
                // A restart must be clearly better: swapping centers renumbers segments.
                if trial.inertia < best * 0.99 {
                    best = trial.inertia
                    start = trial.centers
                    restarted = true
                }
                seeding.centers = []
            }
        }
        let result = Self.lloyd(vectors, from: start, maxPasses: maxPasses)
        // Evidence behind each center: its share of the customers, on the scale the online counts live on, so that
        // online learning after a refinement moves the centers as gently as before it.
        let scale = kmeans.centers.reduce(0) { $0 + $1.count } / Double(vectors.count)
        let counts = result.counts.map { $0 * scale }
        let oldIDs = kmeans.centers.map(\.id)
        if restarted {
            kmeans.centers = matchingIDs(centers: result.centers, counts: counts).centers
        } else {
            kmeans.centers = (0..<k).map { j in
                var id = oldIDs[j]
                if result.restartedAtFarthest.contains(j) {
                    id = kmeans.nextID
                    kmeans.nextID += 1
                }
                return Center(id: id, vector: result.centers[j], count: max(1, counts[j]), lastWin: kmeans.updates)
            }
        }
        let ids = Set(kmeans.centers.map(\.id))
        kmeans.inertia = result.inertia
        refinedInertia = result.inertia
        version += 1
        refreshNames()
        return RefinementReport(
            customers: vectors.count, passes: result.passes, inertiaBefore: before, inertiaAfter: result.inertia,
            restarted: restarted, retiredIDs: oldIDs.filter { !ids.contains($0) })
    }

    struct LloydResult {
        var centers: [[Double]]
        var counts: [Double]
        /// Mean squared distance to the nearest center at the first pass, and after the last.
        var inertiaBefore: Double
        var inertia: Double
        var passes: Int
        /// Centers that lost every vector and were restarted at the farthest one.
        var restartedAtFarthest: Set<Int>
    }

    static func lloyd(_ vectors: [[Double]], from start: [[Double]], maxPasses: Int) -> LloydResult {
        let dimensions = start.first?.count ?? 0
        var flat = [Double]()
        flat.reserveCapacity(vectors.count * dimensions)
        for vector in vectors { flat.append(contentsOf: vector) }
        return lloyd(flat: flat, count: vectors.count, dimensions: dimensions, from: start, maxPasses: maxPasses)
    }

    /// Lloyd over `count` vectors laid out one after another in `flat` (the hot loop of every refinement, kept on
    /// contiguous buffers).
    static func lloyd(flat: [Double], count n: Int, dimensions: Int, from start: [[Double]], maxPasses: Int)
        -> LloydResult
    {
        let k = start.count
        var centers = [Double]()
        centers.reserveCapacity(k * dimensions)
        for center in start { centers.append(contentsOf: center) }
        var labels = [Int](repeating: -1, count: n)
        var distances = [Double](repeating: 0, count: n)
        var counts = [Double](repeating: 0, count: k)
        var sums = [Double](repeating: 0, count: k * dimensions)
        var restartedAtFarthest: Set<Int> = []
        var before = 0.0
        var inertia = 0.0
        var passes = 0
        while passes < maxPasses {
            passes += 1
            var moved = 0
            var total = 0.0
            flat.withUnsafeBufferPointer { x in
                centers.withUnsafeBufferPointer { c in
                    for i in 0..<n {
                        let row = i * dimensions
                        var best = 0
                        var bestDistance = Double.infinity
                        for j in 0..<k {
                            let column = j * dimensions
                            var d = 0.0
                            for e in 0..<dimensions {
                                let delta = x[row + e] - c[column + e]
                                d += delta * delta
                            }
                            if d < bestDistance { bestDistance = d; best = j }
                        }
                        if labels[i] != best { labels[i] = best; moved += 1 }
                        distances[i] = bestDistance
                        total += bestDistance
                    }
                }
            }
            inertia = total / Double(max(n, 1))
            if passes == 1 { before = inertia }
            for j in 0..<(k * dimensions) { sums[j] = 0 }
            for j in 0..<k { counts[j] = 0 }
            flat.withUnsafeBufferPointer { x in
                for i in 0..<n {
                    let j = labels[i]
                    counts[j] += 1
                    for e in 0..<dimensions { sums[j * dimensions + e] += x[i * dimensions + e] }
                }
            }
            // Converged when fewer than one vector in a thousand changed center (and no center died).
            var changed = moved * 1_000 > n
            for j in 0..<k {
                if counts[j] > 0 {
                    for e in 0..<dimensions { centers[j * dimensions + e] = sums[j * dimensions + e] / counts[j] }
                } else if let far = distances.indices.max(by: { distances[$0] < distances[$1] }) {
                    // A dead center: restart it at the vector farthest from its own center.
                    for e in 0..<dimensions { centers[j * dimensions + e] = flat[far * dimensions + e] }
                    distances[far] = 0
                    restartedAtFarthest.insert(j)
                    changed = true
                }
            }
            if !changed { break }
        }
        return LloydResult(
            centers: (0..<k).map { Array(centers[($0 * dimensions)..<(($0 + 1) * dimensions)]) }, counts: counts,
            inertiaBefore: before, inertia: inertia, passes: passes, restartedAtFarthest: restartedAtFarthest)
    }
}

extension Segmentation {
    /// How far the published assignments are from what a refinement would make of the same customers now: the
    /// mean squared distance of `records`' current vectors (under the current statistics) to the mean of their
    /// segment's members — how an analyst who only sees the labels scores them — and the same after Lloyd passes
    /// from the current centers. Their ratio is 1 when no customer would move; `segmenter replay` reports it.
    public func partitionQuality(of records: [CustomerRecord], maxPasses: Int = 20) -> PartitionQuality? {
        let assigned = records.filter { $0.segmentID != nil && $0.eventCount > 0 }
        guard !assigned.isEmpty, kmeans.isInitialised else { return nil }
        let vectors = assigned.map { standardisedVector(of: $0) }
        let dimensions = layout.dimensions
        var sums: [Int: [Double]] = [:]
        var counts: [Int: Double] = [:]
        for (record, vector) in zip(assigned, vectors) {
            var sum = sums[record.segmentID!] ?? [Double](repeating: 0, count: dimensions)
            for d in 0..<dimensions { sum[d] += vector[d] }
            sums[record.segmentID!] = sum
            counts[record.segmentID!, default: 0] += 1
        }
        let means = sums.mapValues { $0 }.reduce(into: [Int: [Double]]()) { result, entry in
            result[entry.key] = entry.value.map { $0 / counts[entry.key]! }
        }
        var published = 0.0
        for (record, vector) in zip(assigned, vectors) {
            published += MiniBatchKMeans.squaredDistance(vector, means[record.segmentID!]!)
        }
        published /= Double(vectors.count)
        let refined = Self.lloyd(vectors, from: kmeans.centers.map(\.vector), maxPasses: maxPasses).inertia
        return PartitionQuality(customers: vectors.count, publishedInertia: published, refinedInertia: refined)
    }
}

/// See ``Segmentation/partitionQuality(of:maxPasses:)``.
public struct PartitionQuality: Sendable, Equatable {
    public var customers: Int
    public var publishedInertia: Double
    public var refinedInertia: Double
    /// Published inertia over the refinement's: 1.00 means a refinement would move nobody.
    public var ratio: Double { refinedInertia > 0 ? publishedInertia / refinedInertia : 1 }
}
