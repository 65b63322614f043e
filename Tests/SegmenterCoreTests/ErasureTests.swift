import SegmenterCore
import Testing

@Suite("erasure in the engine")
struct ErasureTests {
    func engine() throws -> (SegmentationEngine, InMemoryCustomers) {
        var c = SegmentationConfiguration()
        c.kmeans.initSample = 300
        c.tickEvents = 250
        var engine = SegmentationEngine(segmentation: Segmentation(configuration: c))
        engine.audiences = try AudienceRules(
            audiences: [Audience(id: "any", name: "Anyone", when: "events_30d >= 0")], traits: [],
            features: c.features)
        var customers = InMemoryCustomers()
        for event in SyntheticShoppers(customers: 300, events: 4_000, seed: 8) {
            try engine.apply(event, partition: 3, in: &customers)
        }
        try engine.finish(in: &customers)
        engine.takeChanges { _ in }
        engine.takeAudienceChanges { _ in }
        return (engine, customers)
    }

    @Test("an erased customer's last change has segment null, cause erased, no features, and the next sequence")
    func lastChange() throws {
        var (engine, customers) = try engine()
        let victim = try #require(customers.records.first { $0.segmentID != nil })
        #expect(try engine.erase(victim.customerID, in: &customers))
        var changes: [SegmentChange] = []
        engine.takeChanges { changes.append($0) }
        let change = try #require(changes.first)
        #expect(changes.count == 1)
        #expect(change.segment == nil && change.cause == .erased && change.features.isEmpty)
        #expect(change.sequence == victim.transitionSeq + 1)
        #expect(change.previous?.id == victim.segmentID)
        let line = change.jsonLine(emittedAt: 0)
        #expect(line.contains(#""segment":null,"cause":"erased""#))
        #expect(line.contains(#""features":{}}"#), "no merged_from or merged_into on an erasure")
        var exits: [AudienceChange] = []
        engine.takeAudienceChanges { exits.append($0) }
        #expect(exits.map(\.entered) == [false] && exits.first?.cause == .erased, "one Exited for the audience")
    }

    @Test("the directory forgets an erased customer: no read, walk or due timer returns them")
    func directoryForgets() throws {
        var (engine, customers) = try engine()
        let victim = try #require(customers.records.first { $0.timerDueAt != nil && $0.segmentID != nil })
        let before = customers.customers(after: nil, limit: 10_000).count
        try engine.erase(victim.customerID, in: &customers)
        engine.takeChanges { _ in }
        #expect(customers.record(victim.customerID) == nil)
        let walk = customers.customers(after: nil, limit: 10_000)
        #expect(walk.count == before - 1 && !walk.contains { $0.customerID == victim.customerID })
        #expect(!customers.customersDue(through: .max).contains { $0.customerID == victim.customerID })
        #expect(!engine.progress.touched.contains(victim.customerID))
        #expect(try !engine.erase(victim.customerID, in: &customers), "a second erasure finds nobody")
        var changes = 0
        engine.takeChanges { _ in changes += 1 }
        #expect(changes == 0, "nobody left to tell")
    }

    @Test("an erased id that sends events again is a new customer")
    func comesBackNew() throws {
        var (engine, customers) = try engine()
        let victim = try #require(customers.records.first { $0.segmentID != nil })
        try engine.erase(victim.customerID, in: &customers)
        try engine.apply(
            Event(customerID: victim.customerID, type: .pageView, timestamp: engine.segmentation.watermark),
            partition: 3, in: &customers)
        let reborn = try #require(customers.record(victim.customerID))
        #expect(reborn.eventCount == 1 && reborn.transitionSeq == 0)
    }
}
