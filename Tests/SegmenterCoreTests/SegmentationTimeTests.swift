import Testing

@testable import SegmenterCore

/// A small, controlled stream: every customer shops daily (views, a cart, a purchase every third day); the
/// customers in `stopping` stop after `stopDay` while the others go on until `days`.
private func dailyShoppers(customers: Int, stopping: Set<Int>, stopDay: Int, days: Int) -> [Event] {
    var events: [Event] = []
    let start: Int64 = 1_767_225_600_000
    var counter = 0
    for day in 0..<days {
        for c in 0..<customers where !(stopping.contains(c) && day >= stopDay) {
            let base = start + Int64(day) * 86_400_000 + Int64(c) * 1_000
            let id = "c-\(c)"
            let session = "s-\(c)-\(day)"
            var kinds: [EventType] = [.sessionStart, .productView, .productView, .addToCart]
            if day % 3 == c % 3 { kinds.append(.purchase) }
            for (i, kind) in kinds.enumerated() {
                counter += 1
                events.append(Event(
                    eventID: "e-\(counter)", customerID: id, type: kind, timestamp: base + Int64(i) * 10_000,
                    sessionID: session, value: kind == .purchase ? 50 + Double(c % 7) * 10 : nil, category: "shoes"))
            }
        }
    }
    return events.sorted { ($0.timestamp, $0.customerID) < ($1.timestamp, $1.customerID) }
}

/// Drives the engine replay and the daemon run, with customers in memory, and ticks once more at the end so the
/// last timers are seen.
private struct Driver {
    var engine: SegmentationEngine
    var directory = InMemoryCustomers()
    var changes: [SegmentChange] = []

    init(segmentation: Segmentation) {
        engine = SegmentationEngine(segmentation: segmentation)
    }

    var segmentation: Segmentation {
        get { engine.segmentation }
        set { engine.segmentation = newValue }
    }

    var records: [String: CustomerRecord] {
        Dictionary(uniqueKeysWithValues: directory.records.map { ($0.customerID, $0) })
    }

    mutating func run(_ events: [Event]) throws {
        for event in events {
            try engine.apply(event, partition: 0, in: &directory)
            engine.takeChanges { changes.append($0) }
        }
        try engine.tick(in: &directory)
        engine.takeChanges { changes.append($0) }
    }
}

@Suite("time and model changes")
struct SegmentationTimeTests {
    /// A model that adapts within the few thousand vectors of these tests (production defaults are for millions).
    /// The online model: these tests follow centers that learn from every event (SegmentQualityTests measure the
    /// refined default).
    func configuration(k: Int = 2) -> SegmentationConfiguration {
        var c = SegmentationConfiguration.online()
        c.kmeans.k = k
        c.kmeans.initSample = 200
        c.kmeans.forgettingHalfLife = 500
        c.kmeans.reseedAfter = 300
        c.reevaluationsPerEvent = 0.5
        c.tickEvents = 200
        return c
    }

    @Test("customers who stop get timer changes into the dormant-profile segment; the others get none")
    func stoppedCustomersAgeIntoDormancy() throws {
        // Z stopped long ago (so the model knows dormancy), A stops on day 40, B shops on until day 80.
        let day: Int64 = 86_400_000
        let start: Int64 = 1_767_225_600_000
        let z = Set(0..<20), a = Set(20..<40)
        let early = dailyShoppers(customers: 60, stopping: z, stopDay: 10, days: 40)
        let late = dailyShoppers(customers: 60, stopping: z.union(a), stopDay: 0, days: 80)
            .filter { $0.timestamp >= start + 40 * day }
        var driver = Driver(segmentation: Segmentation(configuration: configuration()))
        try driver.run(early + late)
        let segmentation = driver.segmentation
        let recency = segmentation.configuration.features.index(of: "days_since_last_event")!
        let dormant = segmentation.profiles().max { $0.profile[recency] < $1.profile[recency] }!.id
        #expect(segmentation.profiles().first { $0.id == dormant }!.profile[recency] > 20)
        for c in 20..<60 {
            let id = "c-\(c)"
            let timerChanges = driver.changes.filter {
                $0.customerID == id && $0.cause == .timer && $0.at > start + 40 * day
            }
            if a.contains(c) {
                #expect(timerChanges.contains { $0.segment?.id == dormant }, "\(id) stopped but was not timed into dormancy")
                #expect(driver.records[id]!.segmentID == dormant)
            } else {
                #expect(timerChanges.isEmpty, "\(id) kept shopping but got \(timerChanges.count) timer changes")
                #expect(driver.records[id]!.segmentID != dormant)
            }
        }
    }

    @Test("a frozen model keeps its centers and standardiser while events flow, and still assigns customers")
    func freezeStopsLearning() throws {
        let events = dailyShoppers(customers: 30, stopping: [], stopDay: 0, days: 20)
        var driver = Driver(segmentation: Segmentation(configuration: configuration()))
        try driver.run(Array(events.prefix(2_000)))
        driver.segmentation.setFrozen(true)
        let centers = driver.segmentation.kmeans.centers
        let means = driver.segmentation.standardizer.means
        let changesBefore = driver.changes.count
        var fresh = Driver(segmentation: driver.segmentation)
        try fresh.run(Array(events.dropFirst(2_000)).map { var e = $0; e.customerID = "new-" + e.customerID; return e })
        #expect(fresh.segmentation.kmeans.centers == centers)
        #expect(fresh.segmentation.standardizer.means == means)
        #expect(fresh.records.values.allSatisfy { $0.segmentID != nil }, "new customers are still assigned")
        #expect(fresh.changes.count > 0 && changesBefore > 0)
    }

    @Test("a snapshot restores exactly the centers, counts, ids, names and standardiser")
    func snapshotRoundTrip() throws {
        let events = dailyShoppers(customers: 30, stopping: [], stopDay: 0, days: 10)
        var driver = Driver(segmentation: Segmentation(configuration: configuration()))
        try driver.run(events)
        let original = driver.segmentation
        let bytes = try original.snapshot().encoded()
        let restored = try Segmentation(configuration: configuration(), snapshot: SegmentationSnapshot.decode(bytes))
        #expect(restored.kmeans.centers == original.kmeans.centers)
        #expect(restored.standardizer == original.standardizer)
        #expect(restored.names == original.names)
        #expect(try restored.snapshot().encoded() == bytes)
    }

    @Test("retrain keeps the id of a center that moved less than the distance to its next-nearest center")
    func retrainKeepsIDs() throws {
        var c = SegmentationConfiguration.online(features: FeatureSpec(features: [
            .init("a", .count(types: [.pageView], halfLifeDays: nil)),
            .init("b", .count(types: [.search], halfLifeDays: nil)),
        ]))
        c.kmeans.k = 3
        c.kmeans.initSample = 30
        var segmentation = Segmentation(configuration: c)
        // Three well-separated groups of customers in (views, searches).
        var rng = SplitMix64(seed: 9)
        var records: [CustomerRecord] = []
        for group in 0..<3 {
            for n in 0..<40 {
                var record = segmentation.newRecord(customerID: "g\(group)-\(n)", partition: 0)
                let views = [2, 30, 2][group] + Int(rng.next() % 3)
                let searches = [2, 2, 30][group] + Int(rng.next() % 3)
                for i in 0..<(views + searches) {
                    _ = segmentation.apply(Event(customerID: record.customerID, type: i < views ? .pageView : .search,
                                                 timestamp: Int64(i)), to: &record)
                }
                records.append(record)
            }
        }
        let vectors = records.map { segmentation.standardisedVector(of: $0) }
        let oldIDs = Set(segmentation.kmeans.centers.map(\.id))
        let firstReport = segmentation.retrain(vectors: vectors, seed: 1)
        let report = try #require(firstReport)
        #expect(Set(report.keptIDs) == oldIDs, "every center moved less than the gap to its neighbour")
        #expect(report.newIDs.isEmpty)
        // Moving one group far away from the others: its center moves further than the gap between old centers,
        // so it gets a new id; the other two keep theirs.
        let shifted = vectors.enumerated().map { i, v in i < 40 ? v.map { $0 - 50 } : v }
        let secondReport = segmentation.retrain(vectors: shifted, seed: 1)
        let second = try #require(secondReport)
        #expect(second.newIDs.count == 1)
        #expect(second.keptIDs.count == 2)
    }

    @Test("minimum-cost assignment finds the optimal matching")
    func hungarian() {
        let cost: [[Double]] = [[4, 1, 3], [2, 0, 5], [3, 2, 2]]
        #expect(Assignment.minimumCost(cost) == [1, 0, 2])
    }
}
