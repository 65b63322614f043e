/// A Kafka topic and partition, the key of the stored next offsets.
public struct TopicPartitionKey: Hashable, Sendable {
    public var topic: String
    public var partition: Int32

    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }
}
