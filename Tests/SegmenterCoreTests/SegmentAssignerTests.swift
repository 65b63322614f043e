import Testing

@testable import SegmenterCore

@Suite("segment assignment")
struct SegmentAssignerTests {
    /// Two centers, ids 1 at (0,0) and 2 at (10,0).
    var model: MiniBatchKMeans {
        MiniBatchKMeans(
            configuration: .init(k: 2), dimensions: 2,
            centers: [Center(id: 1, vector: [0, 0], count: 10, lastWin: 0),
                      Center(id: 2, vector: [10, 0], count: 10, lastWin: 0)],
            sample: [], updates: 0, nextID: 3, inertia: 0, rng: SplitMix64(seed: 1), farthest: [],
            farthestDistance: 0)
    }

    @Test("a customer wobbling between two centers within the margin produces no changes")
    func hysteresis() {
        let assigner = SegmentAssigner(margin: 0.1)
        var current = assigner.segment(current: nil, since: nil, now: 0, vector: [4, 0], model: model).id
        #expect(current == 1)
        var changes = 0
        for (i, x) in [5.2, 4.8, 5.1, 4.9, 5.2, 4.7].enumerated() {
            let next = assigner.segment(current: current, since: 0, now: Int64(i), vector: [x, 0], model: model).id
            if next != current { changes += 1; current = next }
        }
        #expect(changes == 0)
        // A clear move: d(B) = 2 < 0.9 · d(A) = 7.2.
        #expect(assigner.segment(current: 1, since: 0, now: 9, vector: [8, 0], model: model).id == 2)
    }

    @Test("the minimum dwell holds a customer in a segment until it has passed")
    func minimumDwell() {
        let assigner = SegmentAssigner(margin: 0.1, minimumDwellMilliseconds: 1_000)
        #expect(assigner.segment(current: 1, since: 0, now: 999, vector: [10, 0], model: model).id == 1)
        #expect(assigner.segment(current: 1, since: 0, now: 1_000, vector: [10, 0], model: model).id == 2)
    }

    @Test("a customer whose segment no longer exists goes to the nearest center")
    func retiredSegment() {
        let assigner = SegmentAssigner()
        #expect(assigner.segment(current: 7, since: 0, now: 0, vector: [9, 0], model: model).id == 2)
    }
}
