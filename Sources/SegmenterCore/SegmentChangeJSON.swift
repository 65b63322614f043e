import Foundation

extension SegmentChange {
    /// The change as one line of JSON in the `segment-changes` format (DESIGN §3,
    /// `schemas/segment-change.schema.json`).
    /// Feature values are written with up to 6 significant digits: enough for campaigns, and stable across runs.
    public func jsonLine(emittedAt: Int64) -> String {
        var out = "{\"event_id\":"
        out.reserveCapacity(512)
        quote(eventID, &out)
        out += ",\"customer_id\":"
        quote(customerID, &out)
        out += ",\"previous_segment\":"
        if let previous {
            append(previous, to: &out)
        } else {
            out += "null"
        }
        out += ",\"segment\":"
        append(segment, to: &out)
        out += ",\"cause\":\"\(cause.rawValue)\",\"trigger_event_id\":"
        if let triggerEventID {
            quote(triggerEventID, &out)
        } else {
            out += "null"
        }
        out += ",\"at\":\"\(RFC3339.format(at))\",\"emitted_at\":\"\(RFC3339.format(emittedAt))\""
        out += ",\"model_version\":\(modelVersion),\"features\":{"
        for (i, feature) in features.enumerated() {
            if i > 0 { out += "," }
            quote(feature.name, &out)
            out += ":" + Self.number(feature.value)
        }
        out += "}}"
        return out
    }

    private func quote(_ text: String, _ out: inout String) {
        out += "\""
        JSONString.appendEscaped(text, to: &out)
        out += "\""
    }

    private func append(_ ref: SegmentRef, to out: inout String) {
        out += "{\"id\":\(ref.id),\"name\":"
        quote(ref.name, &out)
        out += "}"
    }

    /// A finite JSON number with at most 6 significant digits. Hand-rolled because `String(format:)` cost more
    /// than all the rest of the pipeline's per-event work together (measured with perf).
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        if value == value.rounded(.towardZero), abs(value) < 1e15 {
            return String(Int64(value))
        }
        let magnitude = Int(log10(abs(value)).rounded(.down))
        let scale = pow(10, Double(5 - magnitude))
        let rounded = (value * scale).rounded() / scale
        if rounded == rounded.rounded(.towardZero), abs(rounded) < 1e15 {
            return String(Int64(rounded))
        }
        return rounded.description
    }
}
