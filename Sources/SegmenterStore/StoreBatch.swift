/// Everything one batch changes, written by `StateStore.commit(_:)` in a single transaction. The daemon keeps
/// one batch and calls `removeAll()` after each commit, so the arrays keep their capacity between batches.
public struct StoreBatch: Sendable {
    /// Customers to insert or replace, by `customerID`.
    public var customers: [StoredCustomer] = []
    /// Segment changes for the outbox; a message whose `eventID` is already there is ignored.
    public var outbox: [OutboxMessage] = []
    /// History rows; a repeated (customer, seq) fails the batch, since it means a transition was applied twice.
    public var transitions: [Transition] = []
    /// The model to save as the current one, if it changed.
    public var model: StoredModel?
    /// A numbered snapshot to keep; its version must not exist yet.
    public var modelSnapshot: StoredModel?
    /// The next offset to consume per topic and partition.
    public var offsets: [TopicPartitionKey: Int64] = [:]
    /// Metadata keys to set.
    public var metadata: [String: String] = [:]
    /// Outbox rows whose delivery was confirmed since the last batch: deleted in the same transaction.
    public var deleteOutboxIDs: [Int64] = []
    /// Partitions whose stored customers are replaced: deleted before this batch's customers are written (a partition
    /// restored from its changelog holds exactly what the changelog holds).
    public var replacedPartitions: [Int32] = []
    /// Input partitions that moved to another instance of the group: their customers, those customers'
    /// transitions and the partition's stored offset are deleted first, so that nothing here answers for them any
    /// more and a partition that comes back is restored from its changelog.
    public var droppedPartitions: [TopicPartitionKey] = []
    /// Customers erased in this batch: their row, transitions, identity links and pending outbox rows are deleted
    /// first, before the batch's own rows are written (so a customer who came back within the batch, and the batch's
    /// last change for them, stay). The changelog publishes a tombstone per id.
    public var erasedCustomers: [String] = []
    /// Customers removed without erasure (an anonymous id merged into a known one, issue 18): their row and
    /// transitions are deleted first, their identity links and outbox rows stay. A tombstone per id too.
    public var removedCustomers: [String] = []
    /// Identity links set in this batch (written after the erasures), and those evicted from the bounded map.
    public var identityLinks: [IdentityLinkRow] = []
    public var evictedIdentityLinks: [String] = []
    /// Erased ids to add to the suppression list (`privacy.suppress_erased`).
    public var suppressedCustomers: [String] = []

    public init() {}

    public var isEmpty: Bool {
        customers.isEmpty && outbox.isEmpty && transitions.isEmpty && model == nil && modelSnapshot == nil
            && offsets.isEmpty && metadata.isEmpty && deleteOutboxIDs.isEmpty && erasedCustomers.isEmpty
            && suppressedCustomers.isEmpty && removedCustomers.isEmpty && identityLinks.isEmpty
            && evictedIdentityLinks.isEmpty && replacedPartitions.isEmpty && droppedPartitions.isEmpty
    }

    /// Empties the batch for reuse; by default keeps the storage so that steady-state batches do not allocate.
    public mutating func removeAll(keepingCapacity: Bool = true) {
        customers.removeAll(keepingCapacity: keepingCapacity)
        outbox.removeAll(keepingCapacity: keepingCapacity)
        transitions.removeAll(keepingCapacity: keepingCapacity)
        model = nil
        modelSnapshot = nil
        offsets.removeAll(keepingCapacity: keepingCapacity)
        metadata.removeAll(keepingCapacity: keepingCapacity)
        deleteOutboxIDs.removeAll(keepingCapacity: keepingCapacity)
        replacedPartitions.removeAll(keepingCapacity: keepingCapacity)
        droppedPartitions.removeAll(keepingCapacity: keepingCapacity)
        erasedCustomers.removeAll(keepingCapacity: keepingCapacity)
        suppressedCustomers.removeAll(keepingCapacity: keepingCapacity)
        removedCustomers.removeAll(keepingCapacity: keepingCapacity)
        identityLinks.removeAll(keepingCapacity: keepingCapacity)
        evictedIdentityLinks.removeAll(keepingCapacity: keepingCapacity)
    }
}
