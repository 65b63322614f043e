import Testing

@testable import SegmenterCore

@Suite("In-memory customers")
struct InMemoryCustomersTests {
    private static let layout = FeatureLayout(spec: .ecommerce())

    private static func add(_ id: String, ordinal: Int64, to directory: inout InMemoryCustomers) {
        try? directory.withRecord(
            id,
            make: { CustomerRecord(customerID: id, partition: 0, state: CustomerState(layout: layout), ordinal: ordinal) }
        ) { _ in }
    }

    @Test("a walk gives customers in creation order however newcomers arrive between walks")
    func walkOrder() {
        var directory = InMemoryCustomers()
        var rng = SplitMix64(seed: 7)
        var all: [String] = []
        var cursor: CustomerWalkKey?
        // Enough customers for the newcomer run to be merged into the whole order several times, walked in steps.
        for round in 0..<40 {
            for _ in 0..<(round % 3 == 0 ? 700 : 37) {
                let id = "c-\(rng.next() % 1_000_000)-é\(round)"
                guard !all.contains(id) else { continue }
                all.append(id)
                Self.add(id, ordinal: Int64(all.count), to: &directory)
            }
            let step = directory.customers(after: cursor, limit: 150)
            let start = cursor.map { Int($0.ordinal) } ?? 0
            let expected = all[start...].prefix(150)
            #expect(step.map(\.customerID) == Array(expected), "round \(round)")
            cursor = step.count < 150 ? nil : step.last?.walkKey
        }
        let everyone = directory.customers(after: nil, limit: all.count + 1).map(\.customerID)
        #expect(everyone == all)
    }
}
