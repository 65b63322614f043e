import Foundation
import SegmenterCore
import Testing

@Suite("the lifecycle model in the engine")
struct LifecycleEngineTests {
    private func run(
        events: Int, initSample: Int = 300, refineEvery: Int = 10_000, observe: (Segmentation) -> Void = { _ in }
    ) throws -> (SegmentationEngine, InMemoryCustomers) {
        var c = SegmentationConfiguration()
        c.kmeans.initSample = initSample
        c.tickEvents = 250
        c.refineEvery = refineEvery
        var engine = SegmentationEngine(segmentation: Segmentation(configuration: c))
        var customers = InMemoryCustomers()
        for event in SyntheticShoppers(customers: 300, events: events, seed: 8) {
            try engine.apply(event, partition: 0, in: &customers)
            observe(engine.segmentation)
        }
        try engine.finish(in: &customers)
        return (engine, customers)
    }

    @Test("the lifecycle model is fitted when the model initialises, with refinement off")
    func fittedAtInitialisation() throws {
        var fittedBeforeInitialised = false
        let (engine, customers) = try run(events: 2_000, refineEvery: 0) { segmentation in
            if segmentation.lifecycle != nil, !segmentation.kmeans.isInitialised { fittedBeforeInitialised = true }
        }
        #expect(!fittedBeforeInitialised)
        #expect(engine.segmentation.lifecycle != nil)
        let traits = customers.records.map { engine.segmentation.traits(of: $0.state) }
        #expect(traits.allSatisfy { $0.lifecycle != nil && $0.prediction != nil && $0.rfm != nil })
    }

    @Test("the lifecycle model is refitted at a tick once a week of event time has passed since the last fit")
    func refittedWeekly() throws {
        var first: LifecycleModel?
        var last: LifecycleModel?
        var refitWatermarks: [Int64] = []
        let (engine, _) = try run(events: 24_000, refineEvery: 500) { segmentation in
            if first == nil { first = segmentation.lifecycle }
            if let model = segmentation.lifecycle, last != nil, model != last {
                refitWatermarks.append(segmentation.watermark)
            }
            last = segmentation.lifecycle
        }
        let initial = try #require(first)
        #expect(engine.segmentation.lifecycle != initial, "later fits replaced the model fitted at start")
        let gaps = zip(refitWatermarks.dropFirst(), refitWatermarks).map { $0 - $1 }
        #expect(refitWatermarks.count >= 2 && gaps.allSatisfy { $0 >= 7 * 86_400_000 }, "\(gaps)")
        #expect(engine.progress.lifecycleFittedAt == refitWatermarks.last)
    }

    @Test("a stream shorter than the initial sample gets a lifecycle model when the replay finishes")
    func fittedAtFinish() throws {
        let (engine, _) = try run(events: 200, initSample: 2_000)
        #expect(engine.segmentation.kmeans.isInitialised)
        #expect(engine.segmentation.lifecycle != nil)
    }

    @Test("a snapshot restores the lifecycle model, and a snapshot written before it loads without one")
    func snapshotCarriesTheModel() throws {
        let (engine, _) = try run(events: 2_000)
        let segmentation = engine.segmentation
        let model = try #require(segmentation.lifecycle)
        let bytes = try segmentation.snapshot().encoded()
        let restored = try Segmentation(
            configuration: segmentation.configuration, snapshot: SegmentationSnapshot.decode(bytes))
        #expect(restored.lifecycle == model)

        var object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(object.removeValue(forKey: "lifecycle") != nil)
        let old = try SegmentationSnapshot.decode(Array(JSONSerialization.data(withJSONObject: object)))
        #expect(try Segmentation(configuration: segmentation.configuration, snapshot: old).lifecycle == nil)
    }

    @Test("without a fitted model every trait is null in the exported record")
    func nullTraitsWithoutModel() {
        let layout = FeatureLayout(spec: .ecommerce())
        var state = CustomerState(layout: layout)
        state.apply(Event(customerID: "c", type: .purchase, timestamp: 86_400_000, value: 10), layout: layout)
        let traits = CustomerTraits(state.activity, model: nil, policy: .init(), horizonDays: 90, at: 86_400_000)
        #expect(traits.jsonMembers == #""lifecycle":null,"predictions":null,"rfm":null"#)
    }
}

extension SegmentationEngine {
    /// The counters without resetting them in the caller's copy.
    fileprivate func takeCountersCopy() -> Counters {
        var copy = self
        return copy.takeCounters()
    }
}
