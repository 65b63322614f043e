import SegmenterCore
import SegmenterStore

extension CustomerRecord {
    /// A stored customer read back with the feature layout it was written with.
    init(stored: StoredCustomer, layout: FeatureLayout) throws {
        self.init(
            customerID: stored.customerID, partition: stored.partition,
            state: try CustomerState(encoded: stored.state, layout: layout), segmentID: stored.segmentID,
            segmentSince: stored.segmentSince, transitionSeq: stored.transitionSeq, eventCount: stored.eventCount,
            timerDueAt: stored.timerDueAt, audiences: try CustomerAudiences(encoded: stored.audiences),
            ordinal: stored.ordinal)
    }

    /// The row the store keeps for this record.
    func stored(layout: FeatureLayout) -> StoredCustomer {
        StoredCustomer(
            customerID: customerID, partition: partition, state: state.encoded(layout: layout), segmentID: segmentID,
            segmentSince: segmentSince, transitionSeq: transitionSeq, eventCount: eventCount,
            lastEventAt: state.lastEventAt, timerDueAt: timerDueAt, audiences: audiences.encoded(), ordinal: ordinal,
            sampleLevel: CustomerSample.level(of: customerID))
    }
}
