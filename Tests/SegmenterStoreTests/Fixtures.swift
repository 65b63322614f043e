import SegmenterStore

/// A customer with a recognisable state blob derived from its id.
func sampleCustomer(
    _ id: String, partition: Int32 = 0, segment: Int? = nil, eventCount: Int64 = 1, timerDueAt: Int64? = nil
) -> StoredCustomer {
    StoredCustomer(
        customerID: id, partition: partition, state: Array(id.utf8) + [0, 1, 2, 255],
        segmentID: segment, segmentSince: segment.map { _ in 1_000 }, transitionSeq: segment == nil ? 0 : 1,
        eventCount: eventCount, lastEventAt: 1_700_000_000_000 + eventCount, timerDueAt: timerDueAt
    )
}

func sampleOutbox(_ eventID: String, customer: String = "c-1", createdAt: Int64 = 5) -> OutboxMessage {
    OutboxMessage(
        eventID: eventID, customerID: customer, partition: 3, topic: "segment-changes", key: Array(customer.utf8),
        payload: Array("{\"event_id\":\"\(eventID)\"}".utf8), createdAt: createdAt
    )
}
