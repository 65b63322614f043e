import SegmenterKafka
import SegmenterStore
import Testing

@testable import SegmenterDaemon

/// Where the pipeline stands in each partition: pending → committing → durable, by batch.
@Suite("partition offsets")
struct PartitionOffsetsTests {
    private let p0 = TopicPartition(topic: "events", partition: 0)
    private let p1 = TopicPartition(topic: "events", partition: 1)

    @Test("assigned partitions start from their stored offsets, and those are durable at once")
    func assignFromStore() {
        var offsets = PartitionOffsets()
        let starts = offsets.assign([p0, p1], stored: [TopicPartitionKey(topic: "events", partition: 1): 40])
        #expect(starts == [p1: 40])
        #expect(offsets.durable == [p1: 40])
        #expect(offsets.positions == [p0: 0, p1: 40])
        #expect(!offsets.hasPending)
    }

    @Test("a batch's offsets become durable only once the batch has committed")
    func pendingCommittingDurable() {
        var offsets = PartitionOffsets()
        _ = offsets.assign([p0, p1], stored: [:])
        offsets.consumed(topic: "events", partition: 0, offset: 7)
        offsets.consumed(topic: "events", partition: 0, offset: 8)
        offsets.consumed(topic: "events", partition: 1, offset: 3)
        #expect(offsets.hasPending)
        #expect(offsets.batchOffsets() == [
            TopicPartitionKey(topic: "events", partition: 0): 9, TopicPartitionKey(topic: "events", partition: 1): 4,
        ])
        #expect(offsets.durable.isEmpty)
        #expect(offsets.positions == [p0: 9, p1: 4], "lag counts the batch being committed")
        offsets.consumed(topic: "events", partition: 0, offset: 9)
        offsets.committed()
        #expect(offsets.durable == [p0: 9, p1: 4])
        #expect(offsets.takeCounts() == [p0: 3, p1: 1])
        #expect(offsets.positions[p0] == 10, "the next batch's first message counts once its run is folded in")
        #expect(offsets.takeCounts().isEmpty)
    }

    @Test("a restored partition resumes at the restored offset, stored with the next batch")
    func restored() {
        var offsets = PartitionOffsets()
        _ = offsets.assign([p0], stored: [:])
        offsets.restored(p0, nextOffset: 120)
        #expect(offsets.batchOffsets() == [TopicPartitionKey(topic: "events", partition: 0): 120])
        offsets.committed()
        #expect(offsets.durableOwned == [p0: 120])
    }

    @Test("revoked partitions are no longer told to Kafka nor counted for lag")
    func revoke() {
        var offsets = PartitionOffsets()
        _ = offsets.assign([p0, p1], stored: [
            TopicPartitionKey(topic: "events", partition: 0): 5, TopicPartitionKey(topic: "events", partition: 1): 6,
        ])
        offsets.revoke([p1])
        #expect(offsets.assigned == [p0])
        #expect(offsets.durableOwned == [p0: 5])
        #expect(offsets.positions == [p0: 5])
    }
}
