/// A segment change to put in the outbox with a batch. `eventID` is the deterministic id of the change
/// (`<customer_id>:<transition seq>`); a second message with the same id is ignored.
public struct OutboxMessage: Sendable, Equatable {
    public var eventID: String
    public var customerID: String
    public var partition: Int32
    public var key: [UInt8]
    public var payload: [UInt8]
    public var createdAt: Int64

    public init(
        eventID: String, customerID: String, partition: Int32, key: [UInt8], payload: [UInt8], createdAt: Int64
    ) {
        self.eventID = eventID
        self.customerID = customerID
        self.partition = partition
        self.key = key
        self.payload = payload
        self.createdAt = createdAt
    }
}
