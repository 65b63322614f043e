import Foundation
import Testing

@testable import SegmenterCore

@Suite("standardiser")
struct StandardizerTests {
    @Test("running mean and variance match a two-pass computation, with log1p and weights")
    func matchesTwoPass() {
        var rng = SplitMix64(seed: 4)
        let rows: [[Double]] = (0..<5_000).map { _ in
            [Double(rng.next() % 1_000) / 7, 1e6 + Double(rng.next() % 100) / 10, Double(rng.next() % 50)]
        }
        var standardizer = Standardizer(transforms: [.log1p, .none, .none], weights: [1, 1, 2])
        for row in rows { standardizer.observe(row) }
        for d in 0..<3 {
            let values = rows.map { d == 0 ? log1p($0[d]) : $0[d] }
            let mean = values.reduce(0, +) / Double(values.count)
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
            #expect(abs(standardizer.means[d] - mean) < 1e-9 * max(1, abs(mean)))
            #expect(abs(standardizer.standardDeviation(d) - variance.squareRoot()) < 1e-9 * max(1, variance))
        }
        var z: [Double] = []
        standardizer.transform(rows[0], into: &z)
        let sd2 = standardizer.standardDeviation(2)
        #expect(abs(z[2] - 2 * (rows[0][2] - standardizer.means[2]) / sd2) < 1e-12, "weights multiply the z-value")
        let back = standardizer.invert(z)
        for d in 0..<3 { #expect(abs(back[d] - rows[0][d]) < 1e-6 * max(1, rows[0][d])) }
    }

    @Test("with forgetting, the statistics follow a shift in the data")
    func forgettingFollowsDrift() {
        var standardizer = Standardizer(transforms: [.none], weights: [1], forgettingHalfLife: 100)
        for _ in 0..<2_000 { standardizer.observe([0]) }
        for _ in 0..<2_000 { standardizer.observe([10]) }
        #expect(abs(standardizer.means[0] - 10) < 0.01)
        var plain = Standardizer(transforms: [.none], weights: [1])
        for _ in 0..<2_000 { plain.observe([0]) }
        for _ in 0..<2_000 { plain.observe([10]) }
        #expect(abs(plain.means[0] - 5) < 1e-9)
    }
}
