/// A cursor over the UTF-8 bytes of one JSON text that checks the grammar of RFC 8259 as it goes. It knows
/// nothing about events: ``EventDecoder`` drives it through the fields it wants and lets it skip the rest, so
/// that one pass over the bytes both validates and extracts, with no intermediate tree.
struct JSONScanner {
    /// Where a string's contents lie (between the quotes) and whether they need unescaping.
    struct StringToken {
        var start: Int
        var end: Int
        var hasEscapes: Bool
    }

    /// Where a number lies and whether it has a fraction or exponent.
    struct NumberToken {
        var start: Int
        var end: Int
        var isInteger: Bool
    }

    /// Deeper nesting in a skipped value is rejected rather than risking the stack.
    static let maxDepth = 512

    let bytes: UnsafePointer<UInt8>
    let end: Int
    var position = 0

    init(bytes: UnsafePointer<UInt8>, count: Int) {
        self.bytes = bytes
        self.end = count
    }

    var isAtEnd: Bool { position >= end }

    /// The byte under the cursor, or 0 at the end (0 is never valid where a token may start).
    var current: UInt8 { position < end ? bytes[position] : 0 }

    mutating func skipWhitespace() {
        while position < end {
            switch bytes[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    mutating func expect(_ byte: UInt8, _ what: String) throws(EventRejection) {
        guard current == byte else { throw unexpected(expected: what) }
        position += 1
    }

    func unexpected(expected: String) -> EventRejection {
        guard position < end else { return .invalidJSON("message ends where \(expected) was expected", at: position) }
        return .invalidJSON("expected \(expected) but found \(Self.describe(bytes[position]))", at: position)
    }

    static func describe(_ byte: UInt8) -> String {
        (0x21..<0x7F).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
    }

    /// What kind of JSON value starts with `byte`, for messages such as "must be a string, not a number".
    static func kind(startingWith byte: UInt8) -> String {
        switch byte {
        case UInt8(ascii: "\""): "a string"
        case UInt8(ascii: "{"): "an object"
        case UInt8(ascii: "["): "an array"
        case UInt8(ascii: "t"), UInt8(ascii: "f"): "a boolean"
        case UInt8(ascii: "n"): "null"
        default: "a number"
        }
    }

    // MARK: Strings

    /// Scans a string whose opening quote is under the cursor, checking escapes, control characters and UTF-8,
    /// and leaves the cursor after the closing quote.
    mutating func scanString() throws(EventRejection) -> StringToken {
        position += 1
        let start = position
        var hasEscapes = false
        skipPlainASCII()
        while position < end {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let token = StringToken(start: start, end: position, hasEscapes: hasEscapes)
                position += 1
                return token
            } else if byte == UInt8(ascii: "\\") {
                hasEscapes = true
                try scanEscape()
            } else if byte < 0x20 {
                throw .invalidJSON("control character \(Self.describe(byte)) inside a string", at: position)
            } else if byte >= 0x80 {
                try scanMultibyteScalar()
            } else {
                position += 1
            }
        }
        throw .invalidJSON("unterminated string starting", at: start - 1)
    }

    /// Skips, eight bytes at a time, string contents that need no checking: ASCII from 0x20 up, without `"` or `\`.
    /// Stops at the first byte that does (the closing quote, usually), which the byte-by-byte loop then handles; only
    /// the last few bytes of a message are left to that loop unchecked here.
    @inline(__always)
    private mutating func skipPlainASCII() {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        while position + 8 <= end {
            let word = UInt64(littleEndian: UnsafeRawPointer(bytes + position).loadUnaligned(as: UInt64.self))
            // A byte is zero in `v` when (v - 1) borrows into its top bit while v's own top bit is clear. A borrow
            // only runs upwards from a real match, so the lowest flagged byte is the first special one.
            func hasZeroByte(_ v: UInt64) -> UInt64 { (v &- ones) & ~v & highs }
            let special = (word & highs) | hasZeroByte(word ^ (ones &* 0x22)) | hasZeroByte(word ^ (ones &* 0x5C))
                | ((word &- ones &* 0x20) & ~word & highs)
            guard special == 0 else {
                position += special.trailingZeroBitCount >> 3
                return
            }
            position += 8
        }
    }

    private mutating func scanEscape() throws(EventRejection) {
        let escapeStart = position
        position += 1
        guard position < end else { throw .invalidJSON("unterminated escape", at: escapeStart) }
        switch bytes[position] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            position += 1
        case UInt8(ascii: "u"):
            let unit = try hexUnit(at: position + 1, escapeStart: escapeStart)
            position += 5
            if (0xDC00...0xDFFF).contains(unit) {
                throw .invalidJSON("unpaired low surrogate \\u\(String(unit, radix: 16))", at: escapeStart)
            }
            if (0xD800...0xDBFF).contains(unit) {
                guard position + 1 < end, bytes[position] == UInt8(ascii: "\\"),
                    bytes[position + 1] == UInt8(ascii: "u"),
                    (0xDC00...0xDFFF).contains(try hexUnit(at: position + 2, escapeStart: position))
                else { throw .invalidJSON("high surrogate not followed by a low surrogate", at: escapeStart) }
                position += 6
            }
        default:
            throw .invalidJSON("invalid escape \\\(Self.describe(bytes[position]))", at: escapeStart)
        }
    }

    private func hexUnit(at index: Int, escapeStart: Int) throws(EventRejection) -> UInt16 {
        guard index + 4 <= end else { throw .invalidJSON("incomplete \\u escape", at: escapeStart) }
        var unit: UInt16 = 0
        for offset in 0..<4 {
            guard let digit = Self.hexValue(bytes[index + offset]) else {
                throw .invalidJSON("\\u escape needs four hex digits", at: escapeStart)
            }
            unit = unit << 4 | UInt16(digit)
        }
        return unit
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Checks one multi-byte UTF-8 sequence (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF).
    private mutating func scanMultibyteScalar() throws(EventRejection) {
        let lead = bytes[position]
        let length: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; secondRange = 0xA0...0xBF
        case 0xED: length = 3; secondRange = 0x80...0x9F
        case 0xE1...0xEF: length = 3
        case 0xF0: length = 4; secondRange = 0x90...0xBF
        case 0xF4: length = 4; secondRange = 0x80...0x8F
        case 0xF1...0xF3: length = 4
        default: throw .invalidJSON("invalid UTF-8", at: position)
        }
        guard position + length <= end, secondRange.contains(bytes[position + 1]) else {
            throw .invalidJSON("invalid UTF-8", at: position)
        }
        for index in position + 2..<position + length where bytes[index] & 0xC0 != 0x80 {
            throw .invalidJSON("invalid UTF-8", at: position)
        }
        position += length
    }

    /// Calls `body` with the unescaped UTF-8 bytes of a scanned string, without copying when it has no escapes.
    func withContents<R>(of token: StringToken, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if !token.hasEscapes {
            return body(UnsafeBufferPointer(start: bytes + token.start, count: token.end - token.start))
        }
        return unescape(token).withUnsafeBufferPointer(body)
    }

    func string(_ token: StringToken) -> String {
        withContents(of: token) { String(decoding: $0, as: UTF8.self) }
    }

    /// Decodes escapes of a string that ``scanString()`` already validated.
    private func unescape(_ token: StringToken) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(token.end - token.start)
        var index = token.start
        while index < token.end {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "\\") else {
                output.append(byte)
                index += 1
                continue
            }
            let escaped = bytes[index + 1]
            index += 2
            switch escaped {
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = UInt32(hexUnitUnchecked(at: index))
                index += 4
                if (0xD800...0xDBFF).contains(scalar) {
                    let low = UInt32(hexUnitUnchecked(at: index + 2))
                    scalar = 0x10000 + (scalar - 0xD800) << 10 + (low - 0xDC00)
                    index += 6
                }
                output.append(contentsOf: UTF8.encode(Unicode.Scalar(scalar)!)!)
            default: output.append(escaped)
            }
        }
        return output
    }

    private func hexUnitUnchecked(at index: Int) -> UInt16 {
        (0..<4).reduce(0) { unit, offset in unit << 4 | UInt16(Self.hexValue(bytes[index + offset])!) }
    }

    // MARK: Numbers

    /// Scans a number under the cursor (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`).
    mutating func scanNumber() throws(EventRejection) -> NumberToken {
        let start = position
        var isInteger = true
        if current == UInt8(ascii: "-") { position += 1 }
        if current == UInt8(ascii: "0") {
            position += 1
            if isDigit(current) { throw .invalidJSON("number with a leading zero", at: start) }
        } else {
            try scanDigits(in: start, "a digit")
        }
        if current == UInt8(ascii: ".") {
            position += 1
            isInteger = false
            try scanDigits(in: start, "a digit after the decimal point")
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            position += 1
            isInteger = false
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
            try scanDigits(in: start, "a digit in the exponent")
        }
        return NumberToken(start: start, end: position, isInteger: isInteger)
    }

    @inline(__always)
    private func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

    private mutating func scanDigits(in start: Int, _ what: String) throws(EventRejection) {
        guard isDigit(current) else { throw unexpected(expected: "\(what) in the number at byte \(start)") }
        repeat { position += 1 } while isDigit(current)
    }

    /// The nearest double to a scanned number; infinite when it overflows.
    func double(_ token: NumberToken) -> Double {
        // Clinger's fast path: a mantissa below 2^53 and a power of ten up to 10^22 are both exact doubles,
        // so one multiplication or division is correctly rounded. Everything else goes to strtod.
        var index = token.start
        let negative = bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        var mantissa: UInt64 = 0
        var digits = 0
        var exponent = 0
        while index < token.end, isDigit(bytes[index]) {
            mantissa = mantissa &* 10 &+ UInt64(bytes[index] &- UInt8(ascii: "0"))
            digits += 1
            index += 1
        }
        if index < token.end, bytes[index] == UInt8(ascii: ".") {
            index += 1
            while index < token.end, isDigit(bytes[index]) {
                mantissa = mantissa &* 10 &+ UInt64(bytes[index] &- UInt8(ascii: "0"))
                digits += 1
                exponent -= 1
                index += 1
            }
        }
        if index == token.end, digits <= 19, mantissa < 1 << 53, exponent >= -22 {
            let magnitude = exponent == 0 ? Double(mantissa) : Double(mantissa) / Self.powersOfTen[-exponent]
            return negative ? -magnitude : magnitude
        }
        let text = String(decoding: UnsafeBufferPointer(start: bytes + token.start, count: token.end - token.start),
            as: UTF8.self)
        return Double(text) ?? .nan
    }

    /// A scanned integer as `Int64`, or `nil` when it has a fraction or exponent or does not fit.
    func int64(_ token: NumberToken) -> Int64? {
        guard token.isInteger else { return nil }
        return Self.wholeNumber(UnsafeBufferPointer(start: bytes + token.start, count: token.end - token.start))
    }

    /// The value of an optionally signed string of decimal digits (no fraction, no exponent), or `nil` when the
    /// bytes are not one or it does not fit in `Int64`.
    static func wholeNumber(_ text: UnsafeBufferPointer<UInt8>) -> Int64? {
        var index = 0
        let negative = text.first == UInt8(ascii: "-")
        if negative { index = 1 }
        guard index < text.count else { return nil }
        var value: Int64 = 0
        while index < text.count {
            let digit = text[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            let (shifted, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (next, overflowB) = negative ? shifted.subtractingReportingOverflow(Int64(digit))
                : shifted.addingReportingOverflow(Int64(digit))
            guard !overflowA, !overflowB else { return nil }
            value = next
            index += 1
        }
        return value
    }

    private static let powersOfTen: [Double] = (0...22).map { exponent in
        (0..<exponent).reduce(1.0) { power, _ in power * 10 }
    }

    /// Whether the non-JSON tokens `NaN`, `Infinity` or `-Infinity` are under the cursor; if so, skips them.
    mutating func skipNonFiniteToken() -> Bool {
        let token: StaticString =
            switch current {
            case UInt8(ascii: "N"): "NaN"
            case UInt8(ascii: "I"): "Infinity"
            case UInt8(ascii: "-"): "-Infinity"
            default: ""
            }
        guard token.utf8CodeUnitCount > 0, matches(token) else { return false }
        position += token.utf8CodeUnitCount
        return true
    }

    private func matches(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard end - position >= count else { return false }
        let text = literal.utf8Start
        for offset in 0..<count where bytes[position + offset] != text[offset] { return false }
        return true
    }

    // MARK: Literals and skipping

    mutating func scanLiteral(_ literal: StaticString) throws(EventRejection) {
        guard matches(literal) else {
            throw .invalidJSON("expected \(literal) but found \(Self.describe(current))", at: position)
        }
        position += literal.utf8CodeUnitCount
    }

    /// Skips one JSON value of any type, validating it.
    mutating func skipValue(depth: Int = 0) throws(EventRejection) {
        switch current {
        case UInt8(ascii: "\""): _ = try scanString()
        case UInt8(ascii: "{"): try skipContainer(depth: depth, close: UInt8(ascii: "}"), keyed: true)
        case UInt8(ascii: "["): try skipContainer(depth: depth, close: UInt8(ascii: "]"), keyed: false)
        case UInt8(ascii: "t"): try scanLiteral("true")
        case UInt8(ascii: "f"): try scanLiteral("false")
        case UInt8(ascii: "n"): try scanLiteral("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            // Overflow is judged even where the value is ignored, as Foundation's parser does: the number is
            // not representable, so the message is not one we can pass on as data.
            let token = try scanNumber()
            if !token.isInteger || token.end - token.start > 300, !double(token).isFinite {
                throw EventRejection(code: .nonFiniteNumber, message: "a number at byte \(token.start) is not finite")
            }
        default: throw unexpected(expected: "a value")
        }
    }

    private mutating func skipContainer(depth: Int, close: UInt8, keyed: Bool) throws(EventRejection) {
        guard depth < Self.maxDepth else {
            throw .invalidJSON("nested deeper than \(Self.maxDepth) levels", at: position)
        }
        position += 1
        skipWhitespace()
        if current == close {
            position += 1
            return
        }
        while true {
            if keyed {
                guard current == UInt8(ascii: "\"") else { throw unexpected(expected: "a string key") }
                _ = try scanString()
                skipWhitespace()
                try expect(UInt8(ascii: ":"), "':'")
                skipWhitespace()
            }
            try skipValue(depth: depth + 1)
            skipWhitespace()
            if current == UInt8(ascii: ",") {
                position += 1
                skipWhitespace()
            } else if current == close {
                position += 1
                return
            } else {
                throw unexpected(expected: keyed ? "',' or '}'" : "',' or ']'")
            }
        }
    }
}
