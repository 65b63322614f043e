/// A consumed message copied out of librdkafka: owned, `Sendable`, free to keep. The convenient but
/// allocating form of `KafkaMessageView`.
public struct KafkaMessage: Hashable, Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    /// The key bytes, `nil` when the message has no key.
    public var key: [UInt8]?
    /// The value bytes; empty for a null value (tombstone).
    public var value: [UInt8]
    public var headers: [KafkaHeader]
    /// Kafka timestamp in milliseconds since the epoch, `nil` when the message has none.
    public var timestamp: Int64?

    public init(
        topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8],
        headers: [KafkaHeader] = [], timestamp: Int64? = nil
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }

    /// Copies a borrowed message.
    public init(_ view: KafkaMessageView) {
        self.init(
            topic: view.topic, partition: view.partition, offset: view.offset,
            key: view.key.map { Array($0) }, value: Array(view.value),
            headers: view.headers, timestamp: view.timestamp
        )
    }
}
