import Foundation
import Testing

@testable import SegmenterCore

/// Well-separated Gaussian blobs with their true labels, shuffled (seeded).
func gaussianBlobs(k: Int, dimensions: Int, perBlob: Int, spread: Double = 0.5, seed: UInt64)
    -> (points: [[Double]], labels: [Int])
{
    var rng = SplitMix64(seed: seed)
    func uniform() -> Double { Double(rng.next() >> 11) / Double(1 << 53) }
    func normal() -> Double { (-2 * log(max(uniform(), 1e-300))).squareRoot() * cos(2 * .pi * uniform()) }
    let centers = (0..<k).map { _ in (0..<dimensions).map { _ in uniform() * 40 - 20 } }
    var data: [([Double], Int)] = []
    for (label, center) in centers.enumerated() {
        for _ in 0..<perBlob { data.append((center.map { $0 + normal() * spread }, label)) }
    }
    for i in stride(from: data.count - 1, to: 0, by: -1) { data.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
    return (data.map(\.0), data.map(\.1))
}

/// Adjusted Rand index between two labelings.
func adjustedRandIndex(_ a: [Int], _ b: [Int]) -> Double {
    func choose2(_ n: Double) -> Double { n * (n - 1) / 2 }
    var table: [Int: [Int: Double]] = [:]
    var rows: [Int: Double] = [:], columns: [Int: Double] = [:]
    for (x, y) in zip(a, b) {
        table[x, default: [:]][y, default: 0] += 1
        rows[x, default: 0] += 1
        columns[y, default: 0] += 1
    }
    let index = table.values.flatMap(\.values).reduce(0) { $0 + choose2($1) }
    let rowSum = rows.values.reduce(0) { $0 + choose2($1) }
    let columnSum = columns.values.reduce(0) { $0 + choose2($1) }
    let expected = rowSum * columnSum / choose2(Double(a.count))
    return (index - expected) / ((rowSum + columnSum) / 2 - expected)
}

/// Plain Lloyd's k-means, best of several k-means++ starts: the reference for inertia.
func lloydInertia(_ points: [[Double]], k: Int, starts: Int = 5) -> Double {
    var best = Double.infinity
    for seed in 0..<starts {
        var model = MiniBatchKMeans(configuration: .init(k: k, initSample: points.count, seed: UInt64(seed + 100)),
                                    dimensions: points[0].count)
        model.initialise(from: points)
        var centers = model.centers.map(\.vector)
        for _ in 0..<100 {
            var sums = [[Double]](repeating: [Double](repeating: 0, count: points[0].count), count: k)
            var counts = [Double](repeating: 0, count: k)
            for p in points {
                let j = (0..<k).min { MiniBatchKMeans.squaredDistance(p, centers[$0])
                    < MiniBatchKMeans.squaredDistance(p, centers[$1]) }!
                counts[j] += 1
                for d in p.indices { sums[j][d] += p[d] }
            }
            let next = (0..<k).map { j in counts[j] > 0 ? sums[j].map { $0 / counts[j] } : centers[j] }
            if next == centers { break }
            centers = next
        }
        best = min(best, inertia(points, centers))
    }
    return best
}

func inertia(_ points: [[Double]], _ centers: [[Double]]) -> Double {
    points.reduce(0) { sum, p in sum + centers.map { MiniBatchKMeans.squaredDistance(p, $0) }.min()! }
}

@Suite("mini-batch k-means")
struct MiniBatchKMeansTests {
    func trained(_ points: [[Double]], k: Int, passes: Int = 3) -> MiniBatchKMeans {
        var model = MiniBatchKMeans(configuration: .init(k: k, initSample: 500, seed: 7, forgettingHalfLife: nil),
                                    dimensions: points[0].count)
        for _ in 0..<passes {
            for p in points {
                if !model.isInitialised {
                    _ = model.collect(p)
                } else {
                    model.learn(p, nearest: model.nearest(p))
                }
            }
        }
        return model
    }

    @Test("on well-separated blobs: adjusted Rand index ≥ 0.95, inertia within 5 % of Lloyd's k-means")
    func blobs() {
        let (points, truth) = gaussianBlobs(k: 5, dimensions: 8, perBlob: 800, seed: 21)
        let model = trained(points, k: 5)
        let labels = points.map { model.nearest($0).index }
        let ari = adjustedRandIndex(truth, labels)
        #expect(ari >= 0.95, "ARI \(ari)")
        let online = inertia(points, model.centers.map(\.vector))
        let reference = lloydInertia(points, k: 5)
        #expect(online <= reference * 1.05, "online \(online) vs Lloyd \(reference)")
    }

    @Test("center ids stay while centers move; a dead center is re-seeded with a new id")
    func stableIDsAndReseeding() {
        let (points, _) = gaussianBlobs(k: 3, dimensions: 2, perBlob: 300, seed: 2)
        var model = MiniBatchKMeans(configuration: .init(k: 3, initSample: 900, seed: 1, reseedAfter: 500),
                                    dimensions: 2)
        for p in points { _ = model.collect(p) }
        let ids = model.centers.map(\.id)
        let before = model.centers.map(\.vector)
        // Feed only points near the first center: it moves, the others win nothing.
        let target = model.centers[0].vector
        for i in 0..<400 { model.learn(target.map { $0 + Double(i % 7) / 10 }, nearest: (0, 0)) }
        #expect(model.centers[0].id == ids[0] && model.centers[0].vector != before[0], "moved, same id")
        #expect(model.centers.map(\.id) == ids, "nobody dead for 500 updates yet")
        // Far points beyond the re-seeding horizon: a dead center comes back there, with a new id.
        for _ in 0..<300 {
            let far = [500.0, 500.0]
            model.learn(far, nearest: model.nearest(far))
        }
        let newIDs = Set(model.centers.map(\.id)).subtracting(ids)
        #expect(newIDs.count >= 1)
        #expect(newIDs.allSatisfy { $0 > ids.max()! })
        #expect(model.centers.contains { MiniBatchKMeans.squaredDistance($0.vector, [500, 500]) < 1 })
    }

    @Test("the same seed and data give the same centers")
    func deterministic() {
        let (points, _) = gaussianBlobs(k: 4, dimensions: 3, perBlob: 200, seed: 3)
        #expect(trained(points, k: 4).centers == trained(points, k: 4).centers)
    }
}
