import Foundation
import Testing

@testable import SegmenterCore

/// One model for a consumer group (issue 17): a leader learns, followers adopt what it shares and learn nothing.
@Suite("the group's model: leading, following, adopting")
struct GroupModelTests {
    func configuration(k: Int = 5) -> SegmentationConfiguration {
        var c = SegmentationConfiguration()
        c.kmeans.k = k
        c.kmeans.initSample = 400
        c.tickEvents = 250
        c.refineEvery = 1_000
        return c
    }

    /// Customers split by id parity, as two partitions would split them.
    func split(_ events: [Event]) -> (leader: [Event], follower: [Event]) {
        var leader: [Event] = []
        var follower: [Event] = []
        for event in events {
            if event.customerID.utf8.reduce(0, { $0 &+ Int($1) }) % 2 == 0 {
                leader.append(event)
            } else {
                follower.append(event)
            }
        }
        return (leader, follower)
    }

    func follower(_ c: SegmentationConfiguration) -> SegmentationEngine {
        var segmentation = Segmentation(configuration: c)
        segmentation.setFollowing(true)
        return SegmentationEngine(segmentation: segmentation)
    }

    @Test("a follower neither initialises a model of its own nor learns, however many events it applies")
    func followerDoesNotLearn() throws {
        let c = configuration()
        var engine = follower(c)
        var customers = InMemoryCustomers()
        var changes = 0
        for event in SyntheticShoppers(customers: 600, events: 8_000, seed: 31) {
            try engine.apply(event, partition: 1, in: &customers)
            engine.takeChanges { _ in changes += 1 }
        }
        try engine.finish(in: &customers)
        #expect(!engine.segmentation.kmeans.isInitialised)
        #expect(engine.segmentation.version == 0)
        #expect(changes == 0, "nobody gets a segment before there is a model")
        #expect(engine.segmentation.pendingCustomers.count == customers.count, "everyone waits for the model")
        #expect(engine.segmentation.standardizer.totalWeight == 0, "the standardiser learned nothing either")
    }

    @Test("adopting the leader's model assigns the waiting customers, with the leader's version and centers")
    func adoptionAssignsWaitingCustomers() throws {
        let c = configuration()
        let (leaderEvents, followerEvents) = split(Array(SyntheticShoppers(customers: 1_200, events: 16_000, seed: 32)))
        var leader = SegmentationEngine(segmentation: Segmentation(configuration: c))
        var leaderCustomers = InMemoryCustomers()
        for event in leaderEvents {
            try leader.apply(event, partition: 0, in: &leaderCustomers)
            leader.takeChanges { _ in }
        }
        #expect(leader.segmentation.kmeans.isInitialised && leader.segmentation.version >= 2,
                "the leader initialised and refined")

        var engine = follower(c)
        var customers = InMemoryCustomers()
        for event in followerEvents.prefix(followerEvents.count / 2) {
            try engine.apply(event, partition: 1, in: &customers)
        }
        let waiting = Set(engine.segmentation.pendingCustomers)
        #expect(waiting.count == customers.count)

        // The model travels encoded, as on the model topic.
        let shared = try SegmentationSnapshot.decode(leader.segmentation.sharedSnapshot().encoded())
        #expect(shared.pendingCustomers.isEmpty && shared.sample.isEmpty && shared.recentEventTimes == nil,
                "what belongs to the leader's stream stays with it")
        let watermark = engine.segmentation.watermark
        try engine.adopt(shared, in: &customers)
        var assigned: [SegmentChange] = []
        engine.takeChanges { assigned.append($0) }
        #expect(Set(assigned.map(\.customerID)) == waiting, "every waiting customer got a first segment")
        #expect(assigned.allSatisfy { $0.cause == .model && $0.modelVersion == leader.segmentation.version })
        #expect(engine.segmentation.version == leader.segmentation.version)
        #expect(engine.segmentation.kmeans.centers == leader.segmentation.kmeans.centers)
        #expect(engine.segmentation.names == leader.segmentation.names)
        #expect(engine.segmentation.watermark == watermark, "the follower's time is its own stream's")
        #expect(engine.segmentation.following, "adopting keeps the role")

        // The same customer is assigned alike by both: one model for the group.
        let probe = try #require(leaderCustomers.records.first { $0.eventCount > 3 })
        var asLeader = probe
        var asFollower = probe
        asLeader.segmentID = nil
        asFollower.segmentID = nil
        var leaderCopy = leader.segmentation
        var followerCopy = engine.segmentation
        leaderCopy.advanceWatermark(to: followerCopy.watermark)
        followerCopy.advanceWatermark(to: leaderCopy.watermark)
        let a = leaderCopy.reevaluate(&asLeader, cause: .model, learn: false)
        let b = followerCopy.reevaluate(&asFollower, cause: .model, learn: false)
        #expect(a?.segment?.id == b?.segment?.id && a != nil)

        // Following on, the follower still learns nothing: its model stays the leader's until the next adoption.
        for event in followerEvents.suffix(from: followerEvents.count / 2) {
            try engine.apply(event, partition: 1, in: &customers)
            engine.takeChanges { _ in }
        }
        #expect(engine.segmentation.kmeans.centers == leader.segmentation.kmeans.centers)
        #expect(engine.segmentation.version == leader.segmentation.version)
    }

    @Test("a new leader learns on from the model it adopted: versions keep rising across the change of leader")
    func newLeaderContinues() throws {
        let c = configuration()
        let events = Array(SyntheticShoppers(customers: 1_000, events: 14_000, seed: 33))
        var first = SegmentationEngine(segmentation: Segmentation(configuration: c))
        var firstCustomers = InMemoryCustomers()
        for event in events.prefix(7_000) {
            try first.apply(event, partition: 0, in: &firstCustomers)
        }
        let handedOver = first.segmentation.version
        var second = follower(c)
        var customers = InMemoryCustomers()
        try second.adopt(first.segmentation.sharedSnapshot(), in: &customers)
        second.segmentation.setFollowing(false)
        for event in events.suffix(from: 7_000) {
            try second.apply(event, partition: 0, in: &customers)
        }
        #expect(second.segmentation.version > handedOver, "the new leader refined and bumped the version")
        #expect(second.segmentation.kmeans.centers.map(\.id).allSatisfy { id in
            first.segmentation.kmeans.centers.contains { $0.id == id } || id >= first.segmentation.kmeans.nextID
        }, "segment ids carry on from the handed-over model")
    }

    @Test("an instance that has applied nothing takes the leader's time; a watermark that never moved ages nobody")
    func freshFollowerTakesTheLeadersTime() throws {
        let c = configuration()
        var leader = SegmentationEngine(segmentation: Segmentation(configuration: c))
        var leaderCustomers = InMemoryCustomers()
        for event in SyntheticShoppers(customers: 300, events: 3_000, seed: 35) {
            try leader.apply(event, partition: 0, in: &leaderCustomers)
        }
        // A customer as a restore brings it in, read under a model whose watermark never moved: no overflow trap.
        let restored = try #require(leaderCustomers.records.first)
        let fresh = Segmentation(configuration: c)
        #expect(fresh.watermark == .min)
        #expect(fresh.features(of: restored).count == c.features.features.count)

        var engine = follower(c)
        var customers = InMemoryCustomers()
        try engine.adopt(leader.segmentation.sharedSnapshot(), in: &customers)
        #expect(engine.segmentation.watermark == leader.segmentation.watermark)
    }

    @Test("a model built with another k is refused with a message naming model.k")
    func mismatchRefused() throws {
        var leader = SegmentationEngine(segmentation: Segmentation(configuration: configuration(k: 4)))
        var leaderCustomers = InMemoryCustomers()
        for event in SyntheticShoppers(customers: 300, events: 2_000, seed: 34) {
            try leader.apply(event, partition: 0, in: &leaderCustomers)
        }
        var engine = follower(configuration(k: 5))
        var customers = InMemoryCustomers()
        #expect {
            try engine.adopt(leader.segmentation.sharedSnapshot(), in: &customers)
        } throws: { error in
            "\(error)".contains("model.k")
        }
        #expect(!engine.segmentation.kmeans.isInitialised, "a refused model leaves the follower as it was")
    }
}
