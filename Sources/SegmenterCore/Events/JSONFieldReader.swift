/// The bytes of a scanned JSON string (a member name, or a short value such as an event name), compared against
/// literals without making a `String`: a `switch` over a ``JSONText`` with string-literal cases (`case "userId":`)
/// compares the length first and then the bytes.
struct JSONText {
    private let scanner: JSONScanner
    private let token: JSONScanner.StringToken

    init(_ token: JSONScanner.StringToken, in scanner: JSONScanner) {
        self.scanner = scanner
        self.token = token
    }

    /// The unescaped bytes (copied only when the text had escapes: no name we read needs one).
    func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        scanner.withContents(of: token, body)
    }

    @inline(__always)
    static func ~= (literal: StaticString, text: JSONText) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard !text.token.hasEscapes else { return text.withBytes { equal($0.baseAddress!, $0.count, literal) } }
        guard text.token.end - text.token.start == count else { return false }
        return equal(text.scanner.bytes + text.token.start, count, literal)
    }

    @inline(__always)
    private static func equal(_ bytes: UnsafePointer<UInt8>, _ count: Int, _ literal: StaticString) -> Bool {
        guard count == literal.utf8CodeUnitCount else { return false }
        let text = literal.utf8Start
        var index = 0
        while index < count {
            guard bytes[index] == text[index] else { return false }
            index += 1
        }
        return true
    }
}

/// What every event reader (the native one and each input preset) does with a ``JSONScanner``: walk objects and
/// arrays, read optional values of an expected type, and keep the first problem with a field's value instead of
/// throwing it, so that a later syntax error still wins. Field paths (`properties.products[2].price`) are
/// autoclosures: they are only built when a rejection names them.
protocol JSONFieldReader {
    var scanner: JSONScanner { get set }
    var problem: EventRejection? { get set }
}

extension JSONFieldReader {
    mutating func record(_ rejection: EventRejection) {
        if problem == nil { problem = rejection }
    }

    mutating func expectEnd() throws(EventRejection) {
        scanner.skipWhitespace()
        guard scanner.isAtEnd else { throw scanner.unexpected(expected: "nothing after the JSON value") }
    }

    /// Reads the whole message: one object whose members go to `field`, then nothing but whitespace. Returns the
    /// rejection for a message that is valid JSON but not an object.
    mutating func readMessage(
        _ field: (inout Self, JSONText) throws(EventRejection) -> Void
    ) throws(EventRejection) -> EventRejection? {
        scanner.skipWhitespace()
        guard scanner.current == UInt8(ascii: "{") else {
            let kind = JSONScanner.kind(startingWith: scanner.current)
            try scanner.skipValue()
            try expectEnd()
            return .notAnObject(kind: String(kind.split(separator: " ").last!))
        }
        try readObject(field)
        try expectEnd()
        return nil
    }

    /// Walks the members of the object under the cursor, handing each key to `field`, which must consume the value.
    mutating func readObject(_ field: (inout Self, JSONText) throws(EventRejection) -> Void) throws(EventRejection) {
        scanner.position += 1
        scanner.skipWhitespace()
        if scanner.current == UInt8(ascii: "}") {
            scanner.position += 1
            return
        }
        while true {
            guard scanner.current == UInt8(ascii: "\"") else { throw scanner.unexpected(expected: "a string key") }
            let key = JSONText(try scanner.scanString(), in: scanner)
            scanner.skipWhitespace()
            try scanner.expect(UInt8(ascii: ":"), "':'")
            scanner.skipWhitespace()
            try field(&self, key)
            guard try moreMembers(before: UInt8(ascii: "}"), "',' or '}'") else { return }
        }
    }

    /// After a member or element: consumes the `,` before the next one (true) or the closing bracket (false).
    @inline(__always)
    private mutating func moreMembers(before close: UInt8, _ expected: String) throws(EventRejection) -> Bool {
        scanner.skipWhitespace()
        switch scanner.current {
        case UInt8(ascii: ","):
            scanner.position += 1
            scanner.skipWhitespace()
            return true
        case close:
            scanner.position += 1
            return false
        default:
            throw scanner.unexpected(expected: expected)
        }
    }

    /// An object or `null` (absent) under the cursor; any other value is recorded as the wrong type.
    mutating func readOptionalObject(
        _ path: @autoclosure () -> String, _ field: (inout Self, JSONText) throws(EventRejection) -> Void
    ) throws(EventRejection) {
        if scanner.current == UInt8(ascii: "{") { return try readObject(field) }
        if try skipNull() { return }
        try wrongType(path(), expected: "an object")
    }

    /// An array or `null` (absent) under the cursor, handing each element's index to `element`, which must consume
    /// the element; any other value is recorded as the wrong type.
    mutating func readOptionalArray(
        _ path: @autoclosure () -> String, _ element: (inout Self, Int) throws(EventRejection) -> Void
    ) throws(EventRejection) {
        guard scanner.current == UInt8(ascii: "[") else {
            if try skipNull() { return }
            return try wrongType(path(), expected: "an array")
        }
        scanner.position += 1
        scanner.skipWhitespace()
        if scanner.current == UInt8(ascii: "]") {
            scanner.position += 1
            return
        }
        var index = 0
        while true {
            try element(&self, index)
            index += 1
            guard try moreMembers(before: UInt8(ascii: "]"), "',' or ']'") else { return }
        }
    }

    /// The string member `name` of the object (or `null`) under the cursor at `path`; other members are skipped.
    mutating func readStringMember(_ name: StaticString, of path: String) throws(EventRejection) -> String? {
        var found: String?
        try readOptionalObject(path) { reader, key throws(EventRejection) in
            guard name ~= key else { return try reader.scanner.skipValue() }
            found = try reader.readOptionalString("\(path).\(name)")
        }
        return found
    }

    /// Records that the value under the cursor has the wrong JSON type, and skips it.
    mutating func wrongType(
        _ field: @autoclosure () -> String, expected: String, code: EventRejection.Code = .invalidField
    ) throws(EventRejection) {
        let found = JSONScanner.kind(startingWith: scanner.current)
        try scanner.skipValue()
        if problem == nil { problem = .wrongType(field(), expected: expected, found: found, code: code) }
    }

    /// Consumes `null` under the cursor, if it is there.
    mutating func skipNull() throws(EventRejection) -> Bool {
        guard scanner.current == UInt8(ascii: "n") else { return false }
        try scanner.scanLiteral("null")
        return true
    }

    /// A string under the cursor, without making a `String` of it; `null` is absent.
    mutating func readOptionalStringToken(
        _ field: @autoclosure () -> String
    ) throws(EventRejection) -> JSONScanner.StringToken? {
        if scanner.current == UInt8(ascii: "\"") { return try scanner.scanString() }
        if try skipNull() { return nil }
        try wrongType(field(), expected: "a string")
        return nil
    }

    mutating func readOptionalString(_ field: @autoclosure () -> String) throws(EventRejection) -> String? {
        try readOptionalStringToken(field()).map { scanner.string($0) }
    }

    mutating func readOptionalNumber(_ field: @autoclosure () -> String) throws(EventRejection) -> Double? {
        switch scanner.current {
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            if scanner.skipNonFiniteToken() {
                record(.nonFinite(field()))
                return nil
            }
            let number = scanner.double(try scanner.scanNumber())
            guard number.isFinite else {
                record(.nonFinite(field()))
                return nil
            }
            return number
        case UInt8(ascii: "N"), UInt8(ascii: "I"):
            guard scanner.skipNonFiniteToken() else { throw scanner.unexpected(expected: "a value") }
            record(.nonFinite(field()))
            return nil
        default:
            if try skipNull() { return nil }
            try wrongType(field(), expected: "a number")
            return nil
        }
    }

    /// A whole number written as a JSON number or as a string of digits (BigQuery's JSON export writes INT64
    /// columns as strings); `null` is absent.
    mutating func readOptionalInteger(_ field: @autoclosure () -> String) throws(EventRejection) -> Int64? {
        let expected = "a whole number (or a string of digits)"
        switch scanner.current {
        case UInt8(ascii: "\""):
            let token = try scanner.scanString()
            let value = scanner.withContents(of: token) { JSONScanner.wholeNumber($0) }
            if value == nil { record(.wrongType(field(), expected: expected, found: "another string")) }
            return value
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            if scanner.skipNonFiniteToken() {
                record(.nonFinite(field()))
                return nil
            }
            let token = try scanner.scanNumber()
            if let exact = scanner.int64(token) { return exact }
            let number = scanner.double(token)
            if let exact = Self.exactInteger(number) { return exact }
            if number.isFinite {
                record(.wrongType(field(), expected: expected, found: "a fraction"))
            } else {
                record(.nonFinite(field()))
            }
            return nil
        case UInt8(ascii: "N"), UInt8(ascii: "I"):
            return try readOptionalNumber(field()).flatMap(Self.exactInteger)
        default:
            if try skipNull() { return nil }
            try wrongType(field(), expected: expected)
            return nil
        }
    }

    /// A whole-number string, an integer, or a number: the value under the cursor as a string identifier (GA4's
    /// `ga_session_id` is an integer, Segment's `context.sessionId` is a string or a number); `null` is absent.
    mutating func readOptionalIdentifier(_ field: @autoclosure () -> String) throws(EventRejection) -> String? {
        switch scanner.current {
        case UInt8(ascii: "\""):
            return scanner.string(try scanner.scanString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let token = try scanner.scanNumber()
            return String(decoding: UnsafeBufferPointer(start: scanner.bytes + token.start,
                count: token.end - token.start), as: UTF8.self)
        default:
            if try skipNull() { return nil }
            try wrongType(field(), expected: "a string or a number")
            return nil
        }
    }

    /// An RFC 3339 string or epoch milliseconds under the cursor; `nil` when it is `null` (the caller decides what
    /// that means) or when it is not a timestamp (recorded).
    mutating func readTimestamp(_ field: @autoclosure () -> String) throws(EventRejection) -> Int64? {
        switch scanner.current {
        case UInt8(ascii: "\""):
            let token = try scanner.scanString()
            let parsed = scanner.withContents(of: token) { RFC3339.parse($0.baseAddress!, count: $0.count) }
            guard let parsed else {
                let text = scanner.string(token)
                let shown = text.count > 64 ? String(text.prefix(64)) + "…" : text
                record(EventRejection(
                    code: .invalidTimestamp,
                    message: "field \"\(field())\" = \"\(JSONString.escape(shown))\" is not RFC 3339 "
                        + "(2026-03-01T12:00:00Z) or epoch milliseconds"
                ))
                return nil
            }
            return parsed
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "N"), UInt8(ascii: "I"):
            if scanner.skipNonFiniteToken() {
                record(.nonFinite(field()))
                return nil
            }
            let token = try scanner.scanNumber()
            if let milliseconds = scanner.int64(token) ?? Self.exactInteger(scanner.double(token)),
                (RFC3339.minEpochMilliseconds...RFC3339.maxEpochMilliseconds).contains(milliseconds)
            {
                return milliseconds
            } else if !scanner.double(token).isFinite {
                record(.nonFinite(field()))
            } else {
                let text = String(decoding: UnsafeBufferPointer(start: scanner.bytes + token.start,
                    count: token.end - token.start), as: UTF8.self)
                record(EventRejection(
                    code: .invalidTimestamp,
                    message: "field \"\(field())\" = \(text) is not whole epoch milliseconds "
                        + "between years 0000 and 9999"
                ))
            }
            return nil
        default:
            if try skipNull() { return nil }
            try wrongType(field(), expected: "an RFC 3339 string or epoch milliseconds", code: .invalidTimestamp)
            return nil
        }
    }

    /// The customer id in a scanned string, or `nil` (recorded) when it is empty or too long.
    mutating func validCustomerID(_ token: JSONScanner.StringToken, field: @autoclosure () -> String) -> String? {
        let byteCount = scanner.withContents(of: token) { $0.count }
        if byteCount == 0 {
            record(EventRejection(
                code: .invalidCustomerID, message: "field \"\(field())\" is empty: every event must name its customer"
            ))
            return nil
        }
        if byteCount > EventDecoder.maxCustomerIDBytes {
            record(EventRejection(
                code: .invalidCustomerID,
                message: "field \"\(field())\" is \(byteCount) bytes, "
                    + "over the \(EventDecoder.maxCustomerIDBytes)-byte limit"
            ))
            return nil
        }
        return scanner.string(token)
    }

    /// The event's customer: the known id (`userId`, `user_id`), else the anonymous one; with the anonymous id
    /// beside a known one for ``Event/anonymousID``. An empty known id is what trackers send before a login: it counts
    /// as absent. Fails when neither is there or the chosen one is not a valid customer id.
    mutating func customer(
        known: JSONScanner.StringToken?, _ knownField: String,
        anonymous: JSONScanner.StringToken?, _ anonymousField: String
    ) -> Result<(id: String, anonymousID: String?), EventRejection> {
        if let known, known.end > known.start {
            guard let id = validCustomerID(known, field: knownField) else { return .failure(problem!) }
            return .success((id, anonymous.map { scanner.string($0) }))
        }
        guard let anonymous else {
            return .failure(.missing(knownField, else: [anonymousField], "every event must name its customer"))
        }
        guard let id = validCustomerID(anonymous, field: anonymousField) else { return .failure(problem!) }
        return .success((id, nil))
    }

    static func exactInteger(_ value: Double) -> Int64? {
        guard value.isFinite, value == value.rounded(.towardZero), abs(value) < 9.2e18 else { return nil }
        return Int64(value)
    }
}
