/// A segment change waiting in the outbox, as read back for publishing. `id` increases with every insert and is
/// never reused, so a publisher can page with `afterID` and delete by id on each delivery report.
public struct OutboxRow: Sendable, Equatable {
    public var id: Int64
    public var message: OutboxMessage

    public init(id: Int64, message: OutboxMessage) {
        self.id = id
        self.message = message
    }
}
