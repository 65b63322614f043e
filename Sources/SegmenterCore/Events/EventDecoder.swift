/// Turns the bytes of one Kafka message into an ``Event`` or an ``EventRejection`` (DESIGN §3), reading the native
/// event or, with ``format``, one of the input presets (Segment, GA4, Snowplow; README "Input presets").
///
/// This is the daemon's hot path, so it is a schema-specific, single-pass scanner over the UTF-8 bytes rather
/// than a general JSON parser followed by a mapping: it validates the whole message as JSON (RFC 8259) while it
/// picks out the fields it knows and skips the rest, and it allocates nothing but the strings it returns (short
/// ids and categories fit in Swift's small-string form and allocate nothing at all). It is tested differentially
/// against Foundation's `JSONSerialization` on valid and mutated messages. Each preset is its own reader over the
/// same scanner, mapping as it goes; only the choices between fallbacks (`userId`, else `anonymousId`) wait for the
/// end of the message.
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

    /// The shape of the messages. Default: ``InputFormat/native``.
    public var format: InputFormat

    public init(maxMessageBytes: Int = 65_536, format: InputFormat = .native) {
        self.maxMessageBytes = maxMessageBytes
        self.format = format
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
        do {
            switch format {
            case .native: return try Self.decode(scanner, as: .native)
            case .segment: return try Self.decode(scanner, as: .segment)
            case .ga4: return try Self.decode(scanner, as: .ga4)
            case .snowplow: return try Self.decode(scanner, as: .snowplow)
            case .auto:
                guard let detected = try InputFormat.detect(scanner) else { return .failure(.unknownFormat) }
                return try Self.decode(scanner, as: detected)
            }
        } catch {
            return .failure(error)
        }
    }

    private static func decode(_ scanner: JSONScanner, as format: InputFormat) throws(EventRejection)
        -> Result<Event, EventRejection>
    {
        switch format {
        case .native, .auto:
            var reader = NativeEventReader(scanner: scanner)
            return try reader.read()
        case .segment:
            var reader = SegmentEventReader(scanner: scanner)
            return try reader.read()
        case .ga4:
            var reader = GA4EventReader(scanner: scanner)
            return try reader.read()
        case .snowplow:
            var reader = SnowplowEventReader(scanner: scanner)
            return try reader.read()
        }
    }
}

/// The state of decoding one native message: the fields found so far and the first problem with a field's value.
private struct NativeEventReader: JSONFieldReader {
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
        if let notAnObject = try readMessage({ reader, key throws(EventRejection) in
            try reader.readTopLevelField(key)
        }) {
            return .failure(notAnObject)
        }
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

    private mutating func readTopLevelField(_ key: JSONText) throws(EventRejection) {
        switch key.withBytes({ EventKey(utf8: $0) }) {
        case .customerID: try readCustomerID()
        case .type: try readType()
        case .timestamp: try readTimestampField()
        case .eventID: event.eventID = try readOptionalString("event_id")
        case .sessionID: event.sessionID = try readOptionalString("session_id")
        case .properties: try readProperties()
        default: try scanner.skipValue()
        }
    }

    private mutating func readPropertiesField(_ key: JSONText) throws(EventRejection) {
        switch key.withBytes({ EventKey(utf8: $0) }) {
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
        try readOptionalObject("properties") { reader, key throws(EventRejection) in
            try reader.readPropertiesField(key)
        }
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

    private mutating func readCustomerID() throws(EventRejection) {
        guard scanner.current == UInt8(ascii: "\"") else {
            if try nullOrWrongType("customer_id", expected: "a string", code: .invalidCustomerID) { customerID = nil }
            return
        }
        if let valid = validCustomerID(try scanner.scanString(), field: "customer_id") { customerID = valid }
    }

    private mutating func readType() throws(EventRejection) {
        guard scanner.current == UInt8(ascii: "\"") else {
            if try nullOrWrongType("type", expected: "a string", code: .invalidField) { type = nil }
            return
        }
        let token = try scanner.scanString()
        type = scanner.withContents(of: token) { EventKey.eventType(utf8: $0) }
    }

    private mutating func readTimestampField() throws(EventRejection) {
        if try skipNull() {
            nullRequiredField = "timestamp"
            timestamp = nil
        } else if let parsed = try readTimestamp("timestamp") {
            timestamp = parsed
        }
    }
}
