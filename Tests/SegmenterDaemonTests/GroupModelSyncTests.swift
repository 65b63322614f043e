import Foundation
import SegmenterCore
import SegmenterKafka
import Testing

@testable import SegmenterDaemon

/// The model topic's part on an in-memory topic: following, taking the lead and stepping down, without a broker.
@Suite("group model sync")
struct GroupModelSyncTests {
    private let log = InMemoryPartitionLog()
    private let records = GroupModelRecordTests()

    private func sync(_ instance: String) -> GroupModelSync {
        GroupModelSync(topic: "events-model", inputTopic: "events", instanceID: instance, reader: log)
    }

    @Test("a follower first reads the newest published model, then only what is published after it")
    func follows() throws {
        let model = try records.trained()
        let leader = sync("a")
        try leader.lead()
        log.append(try leader.row(for: model, createdAt: 1))
        log.append(try leader.row(for: model, createdAt: 2))
        let follower = sync("b")
        let start = ContinuousClock.now
        let first = try #require(try follower.follow(now: start))
        #expect(first.leader == "a" && first.publishedAt == 2)
        #expect(try follower.follow(now: start + .seconds(1)) == nil)
        log.append(try leader.row(for: model, createdAt: 3))
        #expect(try follower.follow(now: start + .milliseconds(1)) == nil, "polled again before the interval")
        #expect(try follower.follow(now: start + .seconds(2))?.publishedAt == 3)
    }

    @Test("the leader reads nothing while it leads, and publishes under its own id")
    func leads() throws {
        let model = try records.trained()
        let leader = sync("a")
        leader.takeoverDue = true
        try leader.lead()
        #expect(leader.isLeader && !leader.takeoverDue && leader.role == "leader")
        #expect(try leader.follow(now: .now + .seconds(1)) == nil)
        let row = try leader.row(for: model, createdAt: 5)
        #expect(row.partition == 0 && row.topic == "events-model")
        #expect(GroupModel.decode(row.payload)?.leader == "a")
        #expect(leader.publishedVersion == model.version)
        #expect(log.assigned.isEmpty)
    }

    @Test("stepping down makes the instance a follower that reads the newest model again")
    func stepsDown() throws {
        let model = try records.trained()
        let instance = sync("a")
        try instance.lead()
        log.append(try instance.row(for: model, createdAt: 1))
        instance.stepDown()
        #expect(!instance.isLeader && instance.role == "follower")
        #expect(try instance.follow(now: .now + .seconds(1))?.publishedAt == 1)
    }

    @Test("a failed read is retried only after the retry interval")
    func retries() throws {
        let follower = sync("b")
        log.failure = KafkaError(code: .timeout, message: "no broker (test)")
        let start = ContinuousClock.now
        #expect(throws: KafkaError.self) { try follower.follow(now: start) }
        log.failure = nil
        #expect(try follower.follow(now: start + .seconds(1)) == nil)
        #expect(follower.retryAt == start + GroupModelSync.retryInterval)
        #expect(throws: Never.self) { try follower.follow(now: start + GroupModelSync.retryInterval) }
    }
}
