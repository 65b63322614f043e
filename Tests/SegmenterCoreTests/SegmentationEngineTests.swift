import Foundation
import Testing

@testable import SegmenterCore

@Suite("segmentation engine and its directory")
struct SegmentationEngineTests {
    func configuration() -> SegmentationConfiguration {
        var c = SegmentationConfiguration()
        c.kmeans.initSample = 300
        c.tickEvents = 250
        return c
    }

    func record(_ id: String, due: Int64? = nil) -> CustomerRecord {
        CustomerRecord(customerID: id, partition: 0, state: CustomerState(layout: FeatureLayout(spec: .ecommerce())),
                       timerDueAt: due)
    }

    @Test("the in-memory directory walks customers in walk-key order: ordinal, then id in UTF-8 byte order")
    func walksInWalkKeyOrder() throws {
        var directory = InMemoryCustomers()
        var rng = SplitMix64(seed: 9)
        var ids: [String] = ["é", "Z", "a", "ü-1", "z"]
        for _ in 0..<3_000 { ids.append("c-\(rng.next() % 100_000)") }
        // Ordinals mostly rising, some repeated and some out of order (records restored from another instance).
        var keys: [CustomerWalkKey] = []
        for (n, id) in ids.enumerated() where !keys.contains(where: { $0.customerID == id }) {
            let ordinal = Int64(n % 7 == 0 ? n / 2 : n)
            keys.append(CustomerWalkKey(ordinal: ordinal, customerID: id))
            try directory.withRecord(id, make: {
                var made = record(id)
                made.ordinal = ordinal
                return made
            }) { _ in }
        }
        var walked: [CustomerWalkKey] = []
        var cursor: CustomerWalkKey?
        while true {
            let page = directory.customers(after: cursor, limit: 97)
            walked += page.map(\.walkKey)
            guard page.count == 97 else { break }
            cursor = page.last?.walkKey
        }
        #expect(walked == keys.sorted())
        #expect(walked.first.map { $0.customerID.utf8.elementsEqual("é".utf8) } == true)
    }

    @Test("the sample at a level holds exactly the customers whose id level reaches it, and halves per level")
    func sampleLevels() throws {
        var directory = InMemoryCustomers()
        let ids = (0..<20_000).map { "customer-\($0)" }
        for (n, id) in ids.enumerated() {
            try directory.withRecord(id, make: {
                var made = record(id)
                made.ordinal = Int64(n)
                return made
            }) { _ in }
        }
        directory.remove("customer-7")
        for level in 0..<6 {
            let sample = directory.sample(minimumLevel: level).map(\.customerID)
            let expected = ids.filter { $0 != "customer-7" && CustomerSample.level(of: $0) >= level }
            #expect(sample == expected, "level \(level)")
            let share = Double(sample.count) / Double(ids.count)
            #expect(abs(share - 1 / Double(1 << level)) < 0.02, "level \(level) keeps about 1/2^level: \(share)")
        }
    }

    @Test("due customers come by due time then id, and a timer that moved later is not due at its old time")
    func dueTimersInOrder() throws {
        var directory = InMemoryCustomers()
        for (id, due) in [("b", 200), ("a", 200), ("c", 100), ("d", 900), ("e", 300)] as [(String, Int64)] {
            try directory.withRecord(id, make: { record(id) }) { $0.timerDueAt = due }
        }
        var moved = try #require(directory.record("e"))
        moved.timerDueAt = 800
        directory.update(moved)
        #expect(directory.customersDue(through: 500).map(\.customerID) == ["c", "a", "b"])
        #expect(directory.customersDue(through: 850).map(\.customerID) == ["e"])
    }

    @Test("an engine saved and restored every 777 events emits exactly what an uninterrupted engine emits")
    func restoredEngineContinuesTheSameSchedule() throws {
        let events = Array(SyntheticShoppers(customers: 800, events: 12_000, seed: 4))
        var reference = SegmentationEngine(segmentation: Segmentation(configuration: configuration()))
        var referenceCustomers = InMemoryCustomers()
        var expected: [String] = []
        for event in events {
            try reference.apply(event, partition: 0, in: &referenceCustomers)
            reference.takeChanges { expected.append($0.jsonLine(emittedAt: 0)) }
        }
        #expect(expected.contains { $0.contains(#""cause":"model""#) || $0.contains(#""cause":"timer""#) },
                "ticks produced changes, so the schedule matters")

        var engine = SegmentationEngine(segmentation: Segmentation(configuration: configuration()))
        var customers = InMemoryCustomers()
        var changes: [String] = []
        for (n, event) in events.enumerated() {
            try engine.apply(event, partition: 0, in: &customers)
            engine.takeChanges { changes.append($0.jsonLine(emittedAt: 0)) }
            if n % 777 == 776 {
                let snapshot = try SegmentationSnapshot.decode(engine.segmentation.snapshot().encoded())
                let progress = try JSONDecoder().decode(
                    SegmentationEngine.Progress.self, from: JSONEncoder().encode(engine.progress))
                engine = SegmentationEngine(
                    segmentation: try Segmentation(configuration: configuration(), snapshot: snapshot),
                    progress: progress)
            }
        }
        #expect(changes.count == expected.count)
        #expect(changes == expected)
    }

    @Test("without tick work (no re-evaluation), ticks still compute timers: a customer gets one after a tick")
    func ticksComputeTimers() throws {
        var c = configuration()
        c.reevaluationsPerEvent = 0
        var engine = SegmentationEngine(segmentation: Segmentation(configuration: c))
        var customers = InMemoryCustomers()
        let events = Array(SyntheticShoppers(customers: 200, events: 2_000, seed: 2))
        for event in events.prefix(c.tickEvents * 3 - 1) {
            try engine.apply(event, partition: 0, in: &customers)
        }
        let last = events[c.tickEvents * 3 - 2].customerID
        #expect(engine.progress.touched.contains(last), "applied since the last tick")
        try engine.apply(events[c.tickEvents * 3 - 1], partition: 0, in: &customers)
        #expect(engine.progress.touched.isEmpty && engine.progress.appliedSinceTick == 0, "the tick ran")
        #expect(customers.records.contains { $0.timerDueAt != nil }, "timers were computed at the tick")
    }
}
