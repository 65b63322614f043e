/// The shape of the input messages: the native event of DESIGN §3, or one of the tools' formats that
/// ``EventDecoder`` maps onto it at decode time (the mapping tables are in the README). `auto` decides per message
/// from its top-level fields, so one topic (or several topics read by one instance) may mix formats.
public enum InputFormat: String, CaseIterable, Sendable, Hashable {
    /// The native input event (DESIGN §3).
    case native
    /// Segment calls (`track`, `page`, `screen`; E-commerce Spec v2 event names).
    case segment
    /// One row of the GA4 BigQuery export per message.
    case ga4
    /// Snowplow enriched events, as the Snowplow analytics SDKs turn them into JSON.
    case snowplow
    /// Per message, from the fields it has (see ``InputFormat/detect(_:)``).
    case auto

    /// The valid configuration values, for error messages: `native, segment, ga4, snowplow, auto`.
    public static var valueList: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

extension InputFormat {
    /// The format of a message for `auto`, from its first top-level member name that only one format has
    /// (`customer_id`: native; `messageId`, `anonymousId`, `userId`, `originalTimestamp`, `receivedAt`, `context`:
    /// Segment; `event_timestamp`, `user_pseudo_id`, `event_params`, `event_date`: GA4; `collector_tstamp`,
    /// `derived_tstamp`, `domain_userid`, `domain_sessionid`, `app_id`: Snowplow). Shared names (`type`,
    /// `timestamp`, `event_name`, `user_id`, …) are skipped. Real messages carry a deciding name first or second, so
    /// the bytes read twice (here, then by the chosen reader from the start) are few. `nil` when no member decides;
    /// a message that is not an object goes to the native reader, which says so.
    static func detect(_ message: JSONScanner) throws(EventRejection) -> InputFormat? {
        var scanner = message
        scanner.skipWhitespace()
        guard scanner.current == UInt8(ascii: "{") else { return .native }
        scanner.position += 1
        scanner.skipWhitespace()
        while scanner.current == UInt8(ascii: "\"") {
            let key = JSONText(try scanner.scanString(), in: scanner)
            switch key {
            case "customer_id": return .native
            case "messageId", "anonymousId", "userId", "originalTimestamp", "receivedAt", "sentAt", "context":
                return .segment
            case "event_timestamp", "user_pseudo_id", "event_params", "event_date", "event_bundle_sequence_id":
                return .ga4
            case "collector_tstamp", "derived_tstamp", "domain_userid", "domain_sessionid", "app_id", "etl_tstamp":
                return .snowplow
            default: break
            }
            scanner.skipWhitespace()
            try scanner.expect(UInt8(ascii: ":"), "':'")
            scanner.skipWhitespace()
            try scanner.skipValue()
            scanner.skipWhitespace()
            guard scanner.current == UInt8(ascii: ",") else { break }
            scanner.position += 1
            scanner.skipWhitespace()
        }
        // No member decided: a syntax error still wins over "unknown format".
        try scanner.expect(UInt8(ascii: "}"), "',' or '}'")
        scanner.skipWhitespace()
        guard scanner.isAtEnd else { throw scanner.unexpected(expected: "nothing after the JSON value") }
        return nil
    }
}
