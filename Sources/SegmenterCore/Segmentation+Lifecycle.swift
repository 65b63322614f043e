import Foundation

/// The lifecycle model inside the segmentation (issue 24): fitted on the engine's bounded sample at the watermark,
/// stored with the model, and asked for each customer's traits as of the watermark.
extension Segmentation {
    /// Fits the lifecycle model on the activity of `members` (the engine's sample) at the watermark. A sample from
    /// which nothing can be fitted keeps the model there was.
    public mutating func fitLifecycle(on members: [CustomerRecord]) {
        guard watermark != .min,
              let model = LifecycleModel.fit(samples: members.map(\.state.activity), at: watermark)
        else { return }
        lifecycle = model
    }

    /// The customer's lifecycle stage, predictions and RFM scores as of the watermark.
    public func traits(of state: CustomerState) -> CustomerTraits {
        CustomerTraits(
            state.activity, model: lifecycle, policy: configuration.lifecyclePolicy,
            horizonDays: configuration.horizonDays, at: watermark)
    }

    /// The customer's record as `segmenter export --format ndjson` and `segmenter replay --customers-out` write it
    /// (one line, no newline): id, segment, event count, last event, features in user units, then the traits, all
    /// as of the watermark. One encoder for both, so that a backfill gives production's records.
    public func exportLine(customerID: String, segmentID: Int?, eventCount: Int64, state: CustomerState) -> String {
        var values: [Double] = []
        state.features(at: watermark, layout: layout, into: &values)
        var line = "{\"customer_id\":\"\(JSONString.escape(customerID))\",\"segment_id\":"
        line += segmentID.map(String.init) ?? "null"
        line += ",\"segment_name\":" + (segmentID.map { "\"\(JSONString.escape(name(of: $0)))\"" } ?? "null")
        line += ",\"event_count\":\(eventCount),\"last_event_at\":\"\(RFC3339.format(state.lastEventAt))\""
        line += ",\"features\":{"
        line += zip(configuration.features.features, values)
            .map { "\"\(JSONString.escape($0.name))\":\(String(format: "%.6g", $1))" }
            .joined(separator: ",")
        return line + "}," + traits(of: state).jsonMembers + "}"
    }
}
