import SegmenterKafka
import SegmenterStore

/// Where the pipeline is in each partition: the next offset of the batch being built (`pending`), of the batch
/// being committed (`committing`), the next offset made durable by the last commit (`durable`), and which
/// partitions this member owns. Messages arrive in runs per
/// partition, so offsets and counts are kept for the current run and folded in when the partition changes,
/// instead of hashing a topic name per message.
struct PartitionOffsets {
    private(set) var pending: [TopicPartition: Int64] = [:]
    private(set) var committing: [TopicPartition: Int64] = [:]
    private(set) var durable: [TopicPartition: Int64] = [:]
    private(set) var assigned: [TopicPartition] = []
    /// Messages per partition since the last ``takeCounts()``.
    private var counts: [TopicPartition: Int64] = [:]
    private var run = Run(topic: "", partition: -1)

    private struct Run {
        var topic: String
        var partition: Int32
        var nextOffset: Int64 = 0
        var count: Int64 = 0
    }

    var hasPending: Bool { !pending.isEmpty || run.count > 0 }

    mutating func consumed(topic: String, partition: Int32, offset: Int64) {
        if partition != run.partition || topic != run.topic {
            flushRun()
            run = Run(topic: topic, partition: partition)
        }
        run.nextOffset = offset + 1
        run.count += 1
    }

    /// The batch's next offsets, keyed for the store; call when the batch is handed over for its commit (they are
    /// then `committing`, and the next batch's offsets start empty).
    mutating func batchOffsets() -> [TopicPartitionKey: Int64] {
        flushRun()
        precondition(committing.isEmpty, "a batch was handed over while the previous one was being committed")
        var offsets: [TopicPartitionKey: Int64] = [:]
        for (topicPartition, offset) in pending {
            offsets[TopicPartitionKey(topic: topicPartition.topic, partition: topicPartition.partition)] = offset
        }
        swap(&committing, &pending)
        return offsets
    }

    /// The batch handed over last was committed: its offsets are durable.
    mutating func committed() {
        durable.merge(committing) { $1 }
        committing.removeAll(keepingCapacity: true)
    }

    /// Durable offsets of the partitions still owned (what Kafka may be told).
    var durableOwned: [TopicPartition: Int64] {
        let owned = Set(assigned)
        return durable.filter { owned.contains($0.key) }
    }

    /// Next offset per owned partition, batch in progress included (for lag).
    var positions: [TopicPartition: Int64] {
        var positions: [TopicPartition: Int64] = [:]
        for topicPartition in assigned {
            positions[topicPartition] =
                pending[topicPartition] ?? committing[topicPartition] ?? durable[topicPartition] ?? 0
        }
        return positions
    }

    mutating func takeCounts() -> [TopicPartition: Int64] {
        flushRun()
        defer { counts.removeAll(keepingCapacity: true) }
        return counts
    }

    /// New partitions: they resume from the offsets stored with the state (nil: from the group's position).
    mutating func assign(_ partitions: [TopicPartition], stored: [TopicPartitionKey: Int64])
        -> [TopicPartition: Int64]
    {
        assigned.append(contentsOf: partitions)
        var starts: [TopicPartition: Int64] = [:]
        for topicPartition in partitions {
            let key = TopicPartitionKey(topic: topicPartition.topic, partition: topicPartition.partition)
            if let offset = stored[key] {
                starts[topicPartition] = offset
                durable[topicPartition] = offset
            }
        }
        return starts
    }

    /// A partition restored from its changelog resumes at `nextOffset`, stored with the next batch.
    mutating func restored(_ topicPartition: TopicPartition, nextOffset: Int64) {
        flushRun()
        pending[topicPartition] = nextOffset
    }

    /// Partitions taken away (after the batch holding their messages was committed).
    mutating func revoke(_ partitions: [TopicPartition]) {
        let revoked = Set(partitions)
        assigned.removeAll { revoked.contains($0) }
        for topicPartition in partitions { durable.removeValue(forKey: topicPartition) }
    }

    private mutating func flushRun() {
        guard run.count > 0 else { return }
        let topicPartition = TopicPartition(topic: run.topic, partition: run.partition)
        pending[topicPartition] = run.nextOffset
        counts[topicPartition, default: 0] += run.count
        run.count = 0
    }
}
