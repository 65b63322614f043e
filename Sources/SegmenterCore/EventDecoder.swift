/// Turns the bytes of one Kafka message into an ``Event`` or an ``EventRejection`` (DESIGN §3).
///
/// This is the daemon's hot path, so it is a schema-specific, single-pass scanner over the UTF-8 bytes rather
/// than a general JSON parser followed by a mapping: it validates the whole message as JSON (RFC 8259) while it
/// picks out the fields it knows and skips the rest, and it allocates nothing but the strings it returns (short
/// ids and categories fit in Swift's small-string form and allocate nothing at all). It is tested differentially
/// against Foundation's `JSONSerialization` on valid and mutated messages.
///
/// Rules: duplicate keys — the last one wins, but every occurrence of a known field must have a valid value;
/// numbers must be finite anywhere in the message; `null` for an optional field means absent; a JSON syntax error
/// is reported in preference to a problem with a field's value.
public struct EventDecoder: Sendable {
    /// The longest accepted `customer_id`, in UTF-8 bytes.
    public static let maxCustomerIDBytes = 256

    /// Messages longer than this many bytes are rejected as ``EventRejection/Code-swift.enum/tooLarge`` without
    /// being read. Default: 65 536 (64 KiB).
    public var maxMessageBytes: Int

    public init(maxMessageBytes: Int = 65_536) {
        self.maxMessageBytes = maxMessageBytes
    }

    public func decode(_ bytes: [UInt8]) -> Result<Event, EventRejection> {
        bytes.withUnsafeBytes { decode($0) }
    }

    public func decode(_ bytes: UnsafeRawBufferPointer) -> Result<Event, EventRejection> {
        guard bytes.count <= maxMessageBytes else {
            return .failure(.tooLarge(bytes: bytes.count, limit: maxMessageBytes))
        }
        guard let base = bytes.baseAddress, !bytes.isEmpty else {
            return .failure(.invalidJSON("the message is empty", at: 0))
        }
        let scanner = JSONScanner(bytes: base.assumingMemoryBound(to: UInt8.self), count: bytes.count)
        var reader = EventReader(scanner: scanner)
        do {
            return try reader.read()
        } catch {
            return .failure(error)
        }
    }
}

/// The state of decoding one message: the fields found so far and the first problem with a field's value.
/// Value problems are kept, not thrown, so that a later syntax error still wins.
private struct EventReader {
    var scanner: JSONScanner
    var problem: EventRejection?
    var customerID: String?
    var type: EventType?
    var timestamp: Int64?
    var nullRequiredField: String?
    var event = Event(customerID: "", type: .other, timestamp: 0)

    init(scanner: JSONScanner) {
        self.scanner = scanner
    }

    mutating func read() throws(EventRejection) -> Result<Event, EventRejection> {
        scanner.skipWhitespace()
        guard scanner.current == UInt8(ascii: "{") else {
            let kind = JSONScanner.kind(startingWith: scanner.current)
            try scanner.skipValue()
            try expectEnd()
            return .failure(.notAnObject(kind: String(kind.split(separator: " ").last!)))
        }
        try readObject { reader, key throws(EventRejection) in try reader.readTopLevelField(key) }
        try expectEnd()
        if let problem { return .failure(problem) }
        guard let customerID else { return .failure(missing("customer_id", "every event must name its customer")) }
        guard let type else {
            return .failure(missing("type", "every event must say what happened, e.g. \"purchase\""))
        }
        guard let timestamp else { return .failure(missing("timestamp", "every event must say when it happened")) }
        event.customerID = customerID
        event.type = type
        event.timestamp = timestamp
        return .success(event)
    }

    private func missing(_ field: String, _ why: String) -> EventRejection {
        guard nullRequiredField == field else { return .missing(field, why) }
        return EventRejection(code: .missingField, message: "field \"\(field)\" is null: \(why)")
    }

    private mutating func expectEnd() throws(EventRejection) {
        scanner.skipWhitespace()
        guard scanner.isAtEnd else { throw scanner.unexpected(expected: "nothing after the JSON value") }
    }

    private mutating func record(_ rejection: EventRejection) {
        if problem == nil { problem = rejection }
    }

    /// Walks the members of the object under the cursor, handing each key to `field`, which must consume the value.
    private mutating func readObject(
        _ field: (inout EventReader, EventKey?) throws(EventRejection) -> Void
    ) throws(EventRejection) {
        scanner.position += 1
        scanner.skipWhitespace()
        if scanner.current == UInt8(ascii: "}") {
            scanner.position += 1
            return
        }
        while true {
            guard scanner.current == UInt8(ascii: "\"") else { throw scanner.unexpected(expected: "a string key") }
            let keyToken = try scanner.scanString()
            let key = scanner.withContents(of: keyToken) { EventKey(utf8: $0) }
            scanner.skipWhitespace()
            try scanner.expect(UInt8(ascii: ":"), "':'")
            scanner.skipWhitespace()
            try field(&self, key)
            scanner.skipWhitespace()
            switch scanner.current {
            case UInt8(ascii: ","):
                scanner.position += 1
                scanner.skipWhitespace()
            case UInt8(ascii: "}"):
                scanner.position += 1
                return
            default:
                throw scanner.unexpected(expected: "',' or '}'")
            }
        }
    }

    private mutating func readTopLevelField(_ key: EventKey?) throws(EventRejection) {
        switch key {
        case .customerID: try readCustomerID()
        case .type: try readType()
        case .timestamp: try readTimestamp()
        case .eventID: event.eventID = try readOptionalString("event_id")
        case .sessionID: event.sessionID = try readOptionalString("session_id")
        case .properties: try readProperties()
        default: try scanner.skipValue()
        }
    }

    private mutating func readPropertiesField(_ key: EventKey?) throws(EventRejection) {
        switch key {
        case .value: event.value = try readOptionalNumber("properties.value")
        case .quantity: event.quantity = try readOptionalNumber("properties.quantity")
        case .category: event.category = try readOptionalString("properties.category")
        case .productID: event.productID = try readOptionalString("properties.product_id")
        case .device: event.device = try readOptionalString("properties.device")
        case .channel: event.channel = try readOptionalString("properties.channel")
        case .country: event.country = try readOptionalString("properties.country")
        default: try scanner.skipValue()
        }
    }

    private mutating func readProperties() throws(EventRejection) {
        switch scanner.current {
        case UInt8(ascii: "{"):
            try readObject { reader, key throws(EventRejection) in try reader.readPropertiesField(key) }
        case UInt8(ascii: "n"):
            try scanner.scanLiteral("null")
        default:
            try wrongType("properties", expected: "an object")
        }
    }

    /// Records that the value under the cursor has the wrong JSON type, and skips it.
    private mutating func wrongType(
        _ field: String, expected: String, code: EventRejection.Code = .invalidField
    ) throws(EventRejection) {
        let found = JSONScanner.kind(startingWith: scanner.current)
        try scanner.skipValue()
        record(.wrongType(field, expected: expected, found: found, code: code))
    }

    /// Consumes `null` under the cursor, if it is there.
    private mutating func skipNull() throws(EventRejection) -> Bool {
        guard scanner.current == UInt8(ascii: "n") else { return false }
        try scanner.scanLiteral("null")
        return true
    }

    /// For a required field whose value is not of the expected type: `null` means absent (true: the caller drops
    /// any earlier value), anything else is recorded as the wrong type.
    private mutating func nullOrWrongType(
        _ field: String, expected: String, code: EventRejection.Code
    ) throws(EventRejection) -> Bool {
        if try skipNull() {
            nullRequiredField = field
            return true
        }
        try wrongType(field, expected: expected, code: code)
        return false
    }

    private mutating func readOptionalString(_ field: String) throws(EventRejection) -> String? {
        if scanner.current == UInt8(ascii: "\"") { return scanner.string(try scanner.scanString()) }
        if try skipNull() { return nil }
        try wrongType(field, expected: "a string")
        return nil
    }

    private mutating func readOptionalNumber(_ field: String) throws(EventRejection) -> Double? {
        switch scanner.current {
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            if scanner.skipNonFiniteToken() {
                record(.nonFinite(field))
                return nil
            }
            let number = scanner.double(try scanner.scanNumber())
            guard number.isFinite else {
                record(.nonFinite(field))
                return nil
            }
            return number
        case UInt8(ascii: "N"), UInt8(ascii: "I"):
            guard scanner.skipNonFiniteToken() else { throw scanner.unexpected(expected: "a value") }
            record(.nonFinite(field))
            return nil
        default:
            if try skipNull() { return nil }
            try wrongType(field, expected: "a number")
            return nil
        }
    }

    private mutating func readCustomerID() throws(EventRejection) {
        guard scanner.current == UInt8(ascii: "\"") else {
            if try nullOrWrongType("customer_id", expected: "a string", code: .invalidCustomerID) { customerID = nil }
            return
        }
        let token = try scanner.scanString()
        let byteCount = scanner.withContents(of: token) { $0.count }
        if byteCount == 0 {
            record(EventRejection(
                code: .invalidCustomerID, message: "field \"customer_id\" is empty: every event must name its customer"
            ))
        } else if byteCount > EventDecoder.maxCustomerIDBytes {
            record(EventRejection(
                code: .invalidCustomerID,
                message: "field \"customer_id\" is \(byteCount) bytes, "
                    + "over the \(EventDecoder.maxCustomerIDBytes)-byte limit"
            ))
        } else {
            customerID = scanner.string(token)
        }
    }

    private mutating func readType() throws(EventRejection) {
        guard scanner.current == UInt8(ascii: "\"") else {
            if try nullOrWrongType("type", expected: "a string", code: .invalidField) { type = nil }
            return
        }
        let token = try scanner.scanString()
        type = scanner.withContents(of: token) { EventKey.eventType(utf8: $0) }
    }

    private mutating func readTimestamp() throws(EventRejection) {
        switch scanner.current {
        case UInt8(ascii: "\""):
            let token = try scanner.scanString()
            let parsed = scanner.withContents(of: token) { RFC3339.parse($0.baseAddress!, count: $0.count) }
            guard let parsed else {
                let text = scanner.string(token)
                let shown = text.count > 64 ? String(text.prefix(64)) + "…" : text
                record(EventRejection(
                    code: .invalidTimestamp,
                    message: "field \"timestamp\" = \"\(JSONString.escape(shown))\" is not RFC 3339 "
                        + "(2026-03-01T12:00:00Z) or epoch milliseconds"
                ))
                return
            }
            timestamp = parsed
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "N"), UInt8(ascii: "I"):
            if scanner.skipNonFiniteToken() {
                record(.nonFinite("timestamp"))
                return
            }
            let token = try scanner.scanNumber()
            if let milliseconds = scanner.int64(token) ?? exactInteger(scanner.double(token)),
                (RFC3339.minEpochMilliseconds...RFC3339.maxEpochMilliseconds).contains(milliseconds)
            {
                timestamp = milliseconds
            } else if !scanner.double(token).isFinite {
                record(.nonFinite("timestamp"))
            } else {
                let text = scanner.withContents(of: JSONScanner.StringToken(start: token.start, end: token.end,
                    hasEscapes: false)) { String(decoding: $0, as: UTF8.self) }
                record(EventRejection(
                    code: .invalidTimestamp,
                    message: "field \"timestamp\" = \(text) is not whole epoch milliseconds between years 0000 and 9999"
                ))
            }
        default:
            let expected = "an RFC 3339 string or epoch milliseconds"
            if try nullOrWrongType("timestamp", expected: expected, code: .invalidTimestamp) { timestamp = nil }
        }
    }

    private func exactInteger(_ value: Double) -> Int64? {
        guard value.isFinite, value == value.rounded(.towardZero), abs(value) < 9.2e18 else { return nil }
        return Int64(value)
    }
}
