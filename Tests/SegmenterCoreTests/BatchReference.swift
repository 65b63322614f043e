import Foundation

/// The batch analysis a careful analyst would run on the final vectors, written for the tests apart from the
/// production model: k-means++ seeding and Lloyd iterations, the best of several restarts, and the measures the
/// quality tests compare with (inertia of a labelling, normalised mutual information).
enum BatchReference {
    struct Result {
        var labels: [Int]
        /// Mean squared distance of the vectors to their cluster's mean.
        var inertia: Double
    }

    /// Plain xorshift so that nothing here shares code with the production generator.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
    }

    static func kMeans(_ vectors: [[Double]], k: Int, restarts: Int = 10, seed: UInt64 = 12_345) -> Result {
        var random = Random(state: seed | 1)
        var best: Result?
        for _ in 0..<restarts {
            let result = lloyd(vectors, centers: seedPlusPlus(vectors, k: k, random: &random))
            if best == nil || result.inertia < best!.inertia { best = result }
        }
        return best!
    }

    static func seedPlusPlus(_ vectors: [[Double]], k: Int, random: inout Random) -> [[Double]] {
        var centers = [vectors[Int(random.next() % UInt64(vectors.count))]]
        var nearest = vectors.map { distance($0, centers[0]) }
        while centers.count < k {
            let total = nearest.reduce(0, +)
            var target = random.unit() * total
            var chosen = vectors.count - 1
            for (i, d) in nearest.enumerated() {
                target -= d
                if target <= 0 { chosen = i; break }
            }
            centers.append(vectors[chosen])
            for i in vectors.indices { nearest[i] = min(nearest[i], distance(vectors[i], vectors[chosen])) }
        }
        return centers
    }

    static func lloyd(_ vectors: [[Double]], centers start: [[Double]], iterations: Int = 300) -> Result {
        var centers = start
        var labels = [Int](repeating: -1, count: vectors.count)
        for _ in 0..<iterations {
            var moved = false
            for (i, v) in vectors.enumerated() {
                var bestIndex = 0
                var bestDistance = Double.infinity
                for (j, c) in centers.enumerated() {
                    let d = distance(v, c)
                    if d < bestDistance { bestDistance = d; bestIndex = j }
                }
                if labels[i] != bestIndex { labels[i] = bestIndex; moved = true }
            }
            centers = means(vectors, labels: labels, fallback: centers)
            if !moved { break }
        }
        return Result(labels: labels, inertia: inertia(vectors, labels: labels))
    }

    /// Mean vector of each label's members (keys are the labels that occur).
    static func means(_ vectors: [[Double]], labels: [Int]) -> [Int: [Double]] {
        var sums: [Int: [Double]] = [:]
        var counts: [Int: Int] = [:]
        for (v, label) in zip(vectors, labels) {
            var sum = sums[label] ?? [Double](repeating: 0, count: v.count)
            for d in v.indices { sum[d] += v[d] }
            sums[label] = sum
            counts[label, default: 0] += 1
        }
        return sums.mapValues { $0 }.reduce(into: [:]) { result, entry in
            result[entry.key] = entry.value.map { $0 / Double(counts[entry.key]!) }
        }
    }

    private static func means(_ vectors: [[Double]], labels: [Int], fallback: [[Double]]) -> [[Double]] {
        let byLabel = means(vectors, labels: labels)
        return fallback.indices.map { byLabel[$0] ?? fallback[$0] }
    }

    /// Mean squared distance of each vector to the mean of the vectors sharing its label: how an outside analyst
    /// scores a labelling they only know by its labels.
    static func inertia(_ vectors: [[Double]], labels: [Int]) -> Double {
        let centers = means(vectors, labels: labels)
        var total = 0.0
        for (v, label) in zip(vectors, labels) { total += distance(v, centers[label]!) }
        return total / Double(vectors.count)
    }

    static func distance(_ a: [Double], _ b: [Double]) -> Double {
        var sum = 0.0
        for i in a.indices { sum += (a[i] - b[i]) * (a[i] - b[i]) }
        return sum
    }

    /// Normalised mutual information (arithmetic mean of the entropies), 0 for independent labellings, 1 for the
    /// same partition.
    static func nmi<A: Hashable, B: Hashable>(_ a: [A], _ b: [B]) -> Double {
        let n = Double(a.count)
        var joint: [Pair<A, B>: Double] = [:]
        var pa: [A: Double] = [:]
        var pb: [B: Double] = [:]
        for (x, y) in zip(a, b) {
            joint[Pair(a: x, b: y), default: 0] += 1
            pa[x, default: 0] += 1
            pb[y, default: 0] += 1
        }
        var mutual = 0.0
        for (pair, count) in joint {
            mutual += count / n * log(count * n / (pa[pair.a]! * pb[pair.b]!))
        }
        func entropy<K>(_ p: [K: Double]) -> Double { -p.values.reduce(0) { $0 + $1 / n * log($1 / n) } }
        let h = (entropy(pa) + entropy(pb)) / 2
        return h > 0 ? mutual / h : 1
    }

    struct Pair<A: Hashable, B: Hashable>: Hashable {
        var a: A
        var b: B
    }
}
