import Foundation

extension SegmentChange {
    /// The change as one line of JSON in the `segment-changes` format (DESIGN §3,
    /// `schemas/segment-change.schema.json`).
    /// Feature values are written with up to 6 significant digits: enough for campaigns, and stable across runs.
    public func jsonLine(emittedAt: Int64) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(512)
        appendJSONLine(emittedAt: emittedAt, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The same line as UTF-8 bytes appended to `out`: the daemon renders a batch's changes into one buffer it
    /// reuses, with no string built per field.
    public func appendJSONLine(emittedAt: Int64, to out: inout [UInt8]) {
        out.append(contentsOf: #"{"event_id":""#.utf8)
        Self.appendEscaped(customerID, to: &out)
        out.append(UInt8(ascii: ":"))
        Self.appendInteger(sequence, to: &out)
        out.append(contentsOf: #"","customer_id":"#.utf8)
        Self.appendQuoted(customerID, to: &out)
        out.append(contentsOf: #","previous_segment":"#.utf8)
        if let previous {
            Self.append(previous, to: &out)
        } else {
            out.append(contentsOf: "null".utf8)
        }
        out.append(contentsOf: #","segment":"#.utf8)
        if let segment {
            Self.append(segment, to: &out)
        } else {
            out.append(contentsOf: "null".utf8)
        }
        out.append(contentsOf: #","cause":""#.utf8)
        out.append(contentsOf: cause.rawValue.utf8)
        out.append(contentsOf: #"","trigger_event_id":"#.utf8)
        if let triggerEventID {
            Self.appendQuoted(triggerEventID, to: &out)
        } else {
            out.append(contentsOf: "null".utf8)
        }
        out.append(contentsOf: #","at":""#.utf8)
        out.append(contentsOf: RFC3339.format(at).utf8)
        out.append(contentsOf: #"","emitted_at":""#.utf8)
        out.append(contentsOf: RFC3339.format(emittedAt).utf8)
        out.append(contentsOf: #"","model_version":"#.utf8)
        Self.appendInteger(modelVersion, to: &out)
        out.append(contentsOf: #","features":{"#.utf8)
        for (i, feature) in features.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            Self.appendQuoted(feature.name, to: &out)
            out.append(UInt8(ascii: ":"))
            Self.appendNumber(feature.value, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        if let mergedFrom {
            out.append(contentsOf: #","merged_from":"#.utf8)
            Self.appendQuoted(mergedFrom, to: &out)
        }
        if let mergedInto {
            out.append(contentsOf: #","merged_into":"#.utf8)
            Self.appendQuoted(mergedInto, to: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    private static func appendQuoted(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        appendEscaped(text, to: &out)
        out.append(UInt8(ascii: "\""))
    }

    /// ``JSONString``'s escaping; the bytes are copied as they are when nothing needs escaping (the usual case).
    private static func appendEscaped(_ text: String, to out: inout [UInt8]) {
        let plain = !text.utf8.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }
        if plain {
            out.append(contentsOf: text.utf8)
        } else {
            out.append(contentsOf: JSONString.escape(text).utf8)
        }
    }

    private static func append(_ ref: SegmentRef, to out: inout [UInt8]) {
        out.append(contentsOf: #"{"id":"#.utf8)
        appendInteger(Int64(ref.id), to: &out)
        out.append(contentsOf: #","name":"#.utf8)
        appendQuoted(ref.name, to: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// Decimal digits of `value`, as `String(value)` spells them.
    private static func appendInteger(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            for index in stride(from: count - 1, through: 0, by: -1) { out.append(buffer[index]) }
        }
    }

    /// A finite JSON number with at most 6 significant digits, as a feature value is written.
    static func number(_ value: Double) -> String {
        var bytes: [UInt8] = []
        appendNumber(value, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A finite JSON number with at most 6 significant digits. Hand-rolled because `String(format:)` cost more
    /// than all the rest of the pipeline's per-event work together (measured with perf).
    private static func appendNumber(_ value: Double, to out: inout [UInt8]) {
        guard value.isFinite else {
            out.append(UInt8(ascii: "0"))
            return
        }
        if value == value.rounded(.towardZero), abs(value) < 1e15 {
            appendInteger(Int64(value), to: &out)
            return
        }
        let magnitude = Int(log10(abs(value)).rounded(.down))
        let scale = pow(10, Double(5 - magnitude))
        let rounded = (value * scale).rounded() / scale
        if rounded == rounded.rounded(.towardZero), abs(rounded) < 1e15 {
            appendInteger(Int64(rounded), to: &out)
        } else {
            out.append(contentsOf: rounded.description.utf8)
        }
    }
}
