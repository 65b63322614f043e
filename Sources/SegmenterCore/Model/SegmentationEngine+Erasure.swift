/// Customers who leave (issue 18): erased on request, or merged into another id. Either way the customer's chain of
/// changes ends with a last change whose segment is nil, and an Audience Exited for every audience they were in, so
/// that downstream lists drop them; then the directory and the engine's own bookkeeping forget the id.
extension SegmentationEngine {
    /// Erases customer `id`: their last change (cause ``SegmentChange/Cause/erased``) and Exited events, then the
    /// record is removed. Returns false when the directory did not know them (nothing is emitted).
    @discardableResult
    public mutating func erase<D: CustomerDirectory>(_ id: String, in directory: inout D) throws -> Bool {
        guard let record = try directory.record(id) else {
            forget(id)
            return false
        }
        end(record, cause: .erased, audienceCause: .erased, mergedInto: nil)
        try directory.remove(id)
        forget(id)
        return true
    }

    /// Emits the last change of `record` (when it ever had a segment) and an Exited for each audience it is in.
    /// The last change carries no features: an erased customer's data must not travel again.
    mutating func end(
        _ record: CustomerRecord, cause: SegmentChange.Cause, audienceCause: AudienceChange.Cause, mergedInto: String?
    ) {
        if let current = record.segmentID {
            changes.append(SegmentChange(
                customerID: record.customerID, sequence: record.transitionSeq + 1,
                previous: .init(id: current, name: segmentation.name(of: current)), segment: nil, cause: cause,
                triggerEventID: nil, at: segmentation.watermark, modelVersion: segmentation.version, features: [],
                mergedInto: mergedInto))
        }
        var leaving = record
        audiences.exitAll(&leaving, cause: audienceCause, at: segmentation.watermark, into: &audienceChanges)
    }

    /// Drops `id` from the engine's bookkeeping (customers touched since the tick, customers waiting for the model),
    /// which is stored with the model and the progress.
    private mutating func forget(_ id: String) {
        progress.touched.remove(id)
        segmentation.pendingCustomers.removeAll { $0 == id }
    }
}
