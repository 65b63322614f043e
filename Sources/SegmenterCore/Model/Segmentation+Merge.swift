extension Segmentation {
    /// Merges another id's state (`state`, `eventCount` events) into `record` and assigns it under the current model
    /// as of the watermark. Returns the one change that tells downstream (cause ``SegmentChange/Cause/merge``,
    /// ``SegmentChange/mergedFrom``), also when the customer stays in their segment; nil while the model does not
    /// exist yet (the customer is then assigned with everyone else when it does).
    mutating func merge(
        _ state: CustomerState, eventCount: Int64, from anonymousID: String, into record: inout CustomerRecord
    ) -> SegmentChange? {
        record.state.merge(state, layout: layout)
        record.eventCount += eventCount
        guard kmeans.isInitialised else {
            if !pendingCustomers.contains(record.customerID) { pendingCustomers.append(record.customerID) }
            return nil
        }
        guard record.eventCount > 0 else { return nil }
        let time = max(watermark, record.state.lastEventAt)
        record.state.features(at: time, layout: layout, into: &raw)
        standardizer.transform(raw, into: &z)
        let before = record.segmentID
        var change = assign(&record, cause: .merge, trigger: nil, at: time).change
        if change == nil, let current = before {
            record.transitionSeq += 1
            let ref = SegmentChange.SegmentRef(id: current, name: name(of: current))
            change = SegmentChange(
                customerID: record.customerID, sequence: record.transitionSeq, previous: ref, segment: ref,
                cause: .merge, triggerEventID: nil, at: time, modelVersion: version,
                features: zip(configuration.features.features, raw).map { ($0.name, $1) })
        }
        change?.mergedFrom = anonymousID
        return change
    }
}
