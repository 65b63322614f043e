/// The owner of a `KafkaConsumer`'s partitions, told about rebalances while they happen.
///
/// Both methods are called synchronously inside librdkafka's rebalance callback, on the thread that
/// is inside `KafkaConsumer.poll` (or `close`). That is the point: the owner can finish and commit its
/// work for partitions before they are taken away, and choose where each new partition starts. The
/// consumer may be used from inside these methods (e.g. `commit`), but `poll` must not be re-entered.
public protocol KafkaRebalanceListener: AnyObject {
    /// The partitions are about to be taken away. Finish and commit their work before returning;
    /// no message of these partitions is delivered after this call until they are assigned again.
    func partitionsRevoked(_ partitions: [TopicPartition])

    /// The partitions have been given to this member. Return the next offset to read for each
    /// partition whose start the owner knows (e.g. from its own store); partitions left out start at
    /// the group's committed offset, or at `auto.offset.reset` when there is none.
    func partitionsAssigned(_ partitions: [TopicPartition]) -> [TopicPartition: Int64]

    /// Of the partitions just assigned (after ``partitionsAssigned(_:)``), those to pause at once: nothing of them is
    /// fetched until the owner calls `KafkaConsumer.resume(_:)` (e.g. once their state is restored). Default: none.
    func partitionsToHold(_ assigned: [TopicPartition]) -> [TopicPartition]
}

extension KafkaRebalanceListener {
    public func partitionsToHold(_ assigned: [TopicPartition]) -> [TopicPartition] { [] }
}
