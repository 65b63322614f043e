import Testing

@testable import SegmenterCore

@Suite("segmentation engine")
struct SegmentationTests {
    func events(customers: Int, count: Int, seed: UInt64 = 1) -> [Event] {
        Array(SyntheticShoppers(customers: customers, events: count, seed: seed))
    }

    /// These tests drive ``Segmentation`` event by event without the engine's ticks, so they use the online
    /// configuration, whose decisions all happen at events (refinement and session-end first segments need the
    /// engine; SegmentationEngineTests and SegmentQualityTests cover them).
    func configuration() -> SegmentationConfiguration {
        var c = SegmentationConfiguration.online()
        c.kmeans.initSample = 300
        return c
    }

    /// Runs events through a segmentation like replay does; returns records and changes in order.
    func run(_ events: [Event]) -> (Segmentation, [String: CustomerRecord], [SegmentChange], Int) {
        var segmentation = Segmentation(configuration: configuration())
        var records: [String: CustomerRecord] = [:]
        var changes: [SegmentChange] = []
        var duplicates = 0
        var pendingAtInit: [String] = []
        for event in events {
            var record = records[event.customerID]
                ?? segmentation.newRecord(customerID: event.customerID, partition: 0)
            switch segmentation.apply(event, to: &record) {
            case .duplicate:
                duplicates += 1
            case .applied(let change, let initialised):
                if let change { changes.append(change) }
                records[event.customerID] = record
                if initialised {
                    pendingAtInit = segmentation.pendingCustomers
                    for id in pendingAtInit {
                        if let change = segmentation.reevaluate(&records[id]!, cause: .model, learn: false) {
                            changes.append(change)
                        }
                    }
                    segmentation.pendingCustomers.removeAll()
                }
            }
        }
        #expect(!pendingAtInit.isEmpty, "some customers arrived before the model existed")
        return (segmentation, records, changes, duplicates)
    }

    @Test("customers seen before initialisation get their first segment when the model is built")
    func pendingCustomersAreAssigned() {
        let (_, records, changes, _) = run(events(customers: 500, count: 5_000))
        #expect(records.values.allSatisfy { $0.segmentID != nil })
        let firsts = changes.filter { $0.previous == nil }
        #expect(Set(firsts.map(\.customerID)).count == records.count, "one first assignment per customer")
        #expect(firsts.contains { $0.cause == .model }, "those waiting for the model get cause model")
    }

    @Test("per customer, changes are numbered 1, 2, 3… and each starts where the last one ended")
    func changeChains() {
        let (_, records, changes, _) = run(events(customers: 300, count: 20_000))
        for (id, record) in records {
            let chain = changes.filter { $0.customerID == id }
            #expect(chain.map(\.sequence) == Array(1...Int64(chain.count)))
            #expect(chain.first?.previous == nil)
            for (a, b) in zip(chain, chain.dropFirst()) { #expect(b.previous == a.segment) }
            #expect(chain.last?.segment?.id == record.segmentID)
            #expect(record.transitionSeq == Int64(chain.count))
            #expect(Set(chain.map(\.eventID)).count == chain.count)
        }
    }

    @Test("a repeated event is a duplicate and is not applied twice")
    func duplicates() {
        let original = events(customers: 100, count: 3_000)
        let withRepeats = original.enumerated().flatMap { i, e in i % 10 == 0 ? [e, e] : [e] }
        let (_, records, _, duplicates) = run(withRepeats)
        #expect(duplicates == withRepeats.count - original.count)
        #expect(records.values.reduce(0) { $0 + $1.eventCount } == Int64(original.count))
    }

    @Test("the same events give the same changes and centers")
    func deterministic() {
        let input = events(customers: 300, count: 10_000)
        let (a, _, changesA, _) = run(input)
        let (b, _, changesB, _) = run(input)
        #expect(changesA == changesB)
        #expect(a.kmeans.centers == b.kmeans.centers)
    }
}
