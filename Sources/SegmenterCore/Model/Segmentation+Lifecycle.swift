import Foundation

/// The lifecycle model inside the segmentation (issue 24): fitted on the engine's bounded sample at the watermark,
/// stored with the model, and asked for each customer's traits as of the watermark.
extension Segmentation {
    /// Most customers the lifecycle model is fitted on: a subset of the refinement sample by the same hash levels
    /// (so between half this and this many). The fit's cost grows with the customers and is large: in a replay of
    /// 10k customers × 150k events (core alone, 350k events/s without the fit) fitting on all 10k at each
    /// refinement gave 68k events/s, on ≤ 2,000 96k, on ≤ 1,000 139k, on ≤ 500 175k. Four parameters, the spend
    /// model and the quintiles are still estimated from 500–1,000 customers (the BG/NBD paper fits 2,357).
    public static let lifecycleSampleLimit = 1_000

    /// Fits the lifecycle model on the activity of `members` (the engine's sample), thinned to at most
    /// ``lifecycleSampleLimit`` customers, at the watermark. A sample from which nothing can be fitted keeps the
    /// model there was.
    public mutating func fitLifecycle(on members: [CustomerRecord]) {
        var sample = members
        var level = 0
        CustomerSample.thin(&sample, level: &level, capacity: Self.lifecycleSampleLimit)
        guard watermark != .min,
              let model = LifecycleModel.fit(samples: sample.map(\.state.activity), at: watermark)
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
