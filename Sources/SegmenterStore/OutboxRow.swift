/// A segment change waiting in the outbox, as read back for publishing. `id` increases with every insert and is
/// never reused, so a publisher can page with `afterID`.
public struct OutboxRow: Sendable, Equatable {
    public var id: Int64
    public var eventID: String
    public var customerID: String
    public var partition: Int32
    /// The Kafka message key to publish with.
    public var key: [UInt8]
    /// The Kafka message value to publish.
    public var payload: [UInt8]
    public var createdAt: Int64

    public init(
        id: Int64, eventID: String, customerID: String, partition: Int32, key: [UInt8], payload: [UInt8],
        createdAt: Int64
    ) {
        self.id = id
        self.eventID = eventID
        self.customerID = customerID
        self.partition = partition
        self.key = key
        self.payload = payload
        self.createdAt = createdAt
    }
}
