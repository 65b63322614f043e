/// The outcome of one produced message, identified by the `token` the producer was given, so an
/// outbox can delete exactly the rows that were delivered. Every produced message gets exactly one.
public struct DeliveryReport: Hashable, Sendable {
    /// The opaque id passed to `KafkaProducer.produce`.
    public var token: UInt64
    /// The topic the message was produced to.
    public var topic: String
    /// The partition it landed in (or was meant for, on failure; -1 if none was chosen).
    public var partition: Int32
    /// Its offset in the partition; -1 when the broker did not say (e.g. on failure).
    public var offset: Int64
    /// Why it was not delivered; `nil` when it was.
    public var error: KafkaError?

    public init(token: UInt64, topic: String, partition: Int32, offset: Int64, error: KafkaError?) {
        self.token = token
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.error = error
    }
}
