/// A rule audience as configured: a stable key, a display name and the `when` condition (see
/// ``AudienceCondition``). Audiences sit beside the clusters: a customer is in one segment and in any number of
/// audiences.
public struct Audience: Sendable, Hashable {
    /// Stable key: it names the audience in events (`audience_key`) and message ids, so never reuse one.
    public var id: String
    public var name: String
    /// The condition as written.
    public var when: String

    public init(id: String, name: String, when: String) {
        self.id = id
        self.name = name
        self.when = when
    }

    /// What a stored membership was computed for: a changed condition is back-filled over stored customers.
    public var fingerprint: String { "\(id)\u{1F}\(when)" }
}

/// A decision of the core: customer `customerID` entered or left audience `audienceID`. Published as a
/// Segment-compatible `track` call (`schemas/audience-event.schema.json`); ``messageID`` is deterministic so that
/// consumers drop the duplicates at-least-once delivery may cause.
public struct AudienceChange: Sendable, Hashable {
    public enum Cause: String, Sendable, Hashable, CaseIterable {
        /// The customer's own event changed the answer.
        case event
        /// Time passing (or a segment move not caused by an event) changed it.
        case timer
        /// The audience was added or changed on an existing data directory.
        case backfill
        /// The customer was erased: an Exited for every audience they were in.
        case erased
        /// The customer's id was merged into another id (issue 18): an Exited for every audience they were in.
        case merge
    }

    public var customerID: String
    public var audienceID: String
    public var audienceName: String
    /// True for Audience Entered, false for Audience Exited.
    public var entered: Bool
    /// 1, 2, 3, … per (customer, audience): odd numbers are Entered, even ones Exited.
    public var seq: Int64
    public var cause: Cause
    /// Event time of the change (epoch ms).
    public var at: Int64
    /// Features in user units and traits at the moment of the change.
    public var features: [(name: String, value: Double)]
    public var traits: [(name: String, value: TraitValue?)]

    public init(
        customerID: String, audienceID: String, audienceName: String, entered: Bool, seq: Int64, cause: Cause,
        at: Int64, features: [(name: String, value: Double)], traits: [(name: String, value: TraitValue?)] = []
    ) {
        self.customerID = customerID
        self.audienceID = audienceID
        self.audienceName = audienceName
        self.entered = entered
        self.seq = seq
        self.cause = cause
        self.at = at
        self.features = features
        self.traits = traits
    }

    public var messageID: String { "\(customerID):\(audienceID):\(seq)" }
    public var eventName: String { entered ? "Audience Entered" : "Audience Exited" }

    public static func == (a: AudienceChange, b: AudienceChange) -> Bool {
        a.jsonLine() == b.jsonLine()
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(messageID)
    }

    /// The change as one line of JSON: a Segment `track` call. It holds no wall-clock time, so `replay` and the
    /// daemon write the same bytes for the same events.
    public func jsonLine() -> String {
        var out = "{\"type\":\"track\",\"event\":\"\(eventName)\",\"userId\":"
        out.reserveCapacity(512)
        out += JSONString.quoted(customerID)
        out += ",\"messageId\":" + JSONString.quoted(messageID)
        out += ",\"timestamp\":\"\(RFC3339.format(at))\",\"properties\":{\"audience_key\":"
        out += JSONString.quoted(audienceID) + ",\"audience_name\":" + JSONString.quoted(audienceName)
        out += ",\"cause\":\"\(cause.rawValue)\",\"seq\":\(seq),\"features\":{"
        for (i, feature) in features.enumerated() {
            if i > 0 { out += "," }
            out += JSONString.quoted(feature.name) + ":" + SegmentChange.number(feature.value)
        }
        out += "}"
        if !traits.isEmpty {
            out += ",\"traits\":{"
            for (i, trait) in traits.enumerated() {
                if i > 0 { out += "," }
                out += JSONString.quoted(trait.name) + ":"
                switch trait.value {
                case .number(let x)?: out += SegmentChange.number(x)
                case .text(let s)?: out += JSONString.quoted(s)
                case nil: out += "null"
                }
            }
            out += "}"
        }
        out += "},\"context\":{\"library\":{\"name\":\"segmenter\"}}}"
        return out
    }
}
