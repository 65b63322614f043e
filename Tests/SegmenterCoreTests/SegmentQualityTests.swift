import Testing

@testable import SegmenterCore

/// Issue #11's targets on the realistic synthetic shop: each test prints what it measured.
@Suite("Segment quality on a realistic shop", .serialized)
struct SegmentQualityTests {
    static let sparse = Result { try SegmentQualityRun(customers: 20_000, events: 200_000, seed: 101) }
    static let dense = Result { try SegmentQualityRun(customers: 2_000, events: 200_000, seed: 202) }

    @Test("report")
    func report() throws {
        print("sparse:", try Self.sparse.get())
        print("dense:", try Self.dense.get())
    }
}
