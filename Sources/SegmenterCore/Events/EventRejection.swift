/// Why an input message was not turned into an ``Event``. The daemon sends the message to the dead-letter topic
/// with ``message`` as the `segmenter.error` header and counts it under ``Code-swift.enum/rawValue`` as the
/// Prometheus `reason` label, so the code set is small and stable while the message is specific.
public struct EventRejection: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, CaseIterable {
        case tooLarge = "too_large"
        case invalidJSON = "invalid_json"
        case notAnObject = "not_an_object"
        case missingField = "missing_field"
        case invalidField = "invalid_field"
        case invalidCustomerID = "invalid_customer_id"
        case invalidTimestamp = "invalid_timestamp"
        case nonFiniteNumber = "non_finite_number"
        /// `auto` could not tell which format the message is in.
        case unknownFormat = "unknown_format"
        /// A valid message that is not behaviour (Segment `identify`, `alias`, `group`): skipped and counted, never
        /// dead-lettered (see ``EventRejection/isDeadLetter``).
        case notBehaviour = "not_behaviour"

        /// Whether a message rejected with this code belongs on the dead-letter topic: all but
        /// ``notBehaviour``, which is well-formed and expected on the topic, so it is only counted.
        public var isDeadLetter: Bool { self != .notBehaviour }
    }

    public var code: Code
    /// One sentence saying what was wrong and naming the field, e.g.
    /// `field "customer_id" is missing: every event must name its customer`.
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }

    /// Whether the message belongs on the dead-letter topic (``Code-swift.enum/isDeadLetter``); when not, it is
    /// only counted under its code and its offset passes.
    public var isDeadLetter: Bool { code.isDeadLetter }
}

extension EventRejection {
    static func tooLarge(bytes: Int, limit: Int) -> EventRejection {
        EventRejection(code: .tooLarge, message: "message is \(bytes) bytes, over the \(limit)-byte limit")
    }

    static func invalidJSON(_ what: String, at offset: Int) -> EventRejection {
        EventRejection(code: .invalidJSON, message: "message is not valid JSON: \(what) at byte \(offset)")
    }

    static func notAnObject(kind: String) -> EventRejection {
        EventRejection(
            code: .notAnObject, message: "message is a JSON \(kind), not an object: every event must be one JSON object"
        )
    }

    static func missing(_ field: String, _ why: String) -> EventRejection {
        EventRejection(code: .missingField, message: "field \"\(field)\" is missing: \(why)")
    }

    static func wrongType(_ field: String, expected: String, found: String, code: Code = .invalidField)
        -> EventRejection
    {
        EventRejection(code: code, message: "field \"\(field)\" must be \(expected), not \(found)")
    }

    static func missing(_ field: String, else fallbacks: [String], _ why: String) -> EventRejection {
        let others = fallbacks.map { "\"\($0)\"" }.joined(separator: " and ")
        return EventRejection(
            code: .missingField, message: "field \"\(field)\" is missing, and so is \(others): \(why)")
    }

    static let unknownFormat = EventRejection(
        code: .unknownFormat,
        message: "the message has none of the fields that tell the formats apart (native \"customer_id\", Segment "
            + "\"messageId\"/\"anonymousId\"/\"userId\", GA4 \"event_timestamp\"/\"user_pseudo_id\", Snowplow "
            + "\"collector_tstamp\"/\"domain_userid\"): set input.format to the topic's format")

    static func notBehaviour(call: String) -> EventRejection {
        EventRejection(
            code: .notBehaviour,
            message: "a Segment \"\(call)\" call describes who the customer is, not what they did: skipped, "
                + "not counted as an event")
    }

    static func nonFinite(_ field: String) -> EventRejection {
        EventRejection(code: .nonFiniteNumber, message: "field \"\(field)\" is not a finite number")
    }
}
