/// RFC 3339 timestamps ⇄ epoch milliseconds, written by hand because Foundation's ISO 8601 parsers are far too
/// slow for the decoding hot path (DESIGN §8) and need no calendar: proleptic Gregorian days-from-civil
/// arithmetic is exact for the years 0000–9999 that RFC 3339 can spell.
///
/// Accepted: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, with `T`/`t`/space as the separator and `Z`/`z`.
/// Fractions beyond milliseconds are truncated. Leap seconds (`:60`) are rejected: producers that read POSIX
/// clocks never emit them, and accepting them would make two spellings of one instant.
public enum RFC3339 {
    /// The earliest instant RFC 3339 can write, 0000-01-01T00:00:00.000Z, in epoch milliseconds.
    public static let minEpochMilliseconds: Int64 = -62_167_219_200_000
    /// The latest instant RFC 3339 can write, 9999-12-31T23:59:59.999Z, in epoch milliseconds.
    public static let maxEpochMilliseconds: Int64 = 253_402_300_799_999

    /// Parses the UTF-8 bytes of an RFC 3339 timestamp into epoch milliseconds; `nil` when it is not one.
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        guard let base = bytes.baseAddress else { return nil }
        return parse(base.assumingMemoryBound(to: UInt8.self), count: bytes.count)
    }

    /// Parses an RFC 3339 timestamp into epoch milliseconds; `nil` when it is not one.
    public static func parse(_ string: String) -> Int64? {
        var string = string
        return string.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
    }

    /// Formats epoch milliseconds as UTC with exactly three fractional digits, e.g. `2026-03-01T12:00:00.031Z`.
    /// Instants outside ``minEpochMilliseconds``…``maxEpochMilliseconds`` are clamped to that range, because
    /// RFC 3339 has no spelling for them.
    public static func format(_ epochMilliseconds: Int64) -> String {
        let ms = min(max(epochMilliseconds, minEpochMilliseconds), maxEpochMilliseconds)
        let (days, msOfDay) = floorDivide(ms, 86_400_000)
        let (year, month, day) = civil(fromDays: days)
        return String(unsafeUninitializedCapacity: 24) { buffer in
            // "YYYY-MM-DDTHH:MM:SS.mmmZ": digits at fixed positions, separators between them.
            func put(_ value: Int64, at start: Int, width: Int) {
                var value = value
                for position in stride(from: start + width - 1, through: start, by: -1) {
                    buffer[position] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
            }
            put(year, at: 0, width: 4)
            put(month, at: 5, width: 2)
            put(day, at: 8, width: 2)
            put(msOfDay / 3_600_000, at: 11, width: 2)
            put(msOfDay / 60_000 % 60, at: 14, width: 2)
            put(msOfDay / 1_000 % 60, at: 17, width: 2)
            put(msOfDay % 1_000, at: 20, width: 3)
            buffer[4] = UInt8(ascii: "-")
            buffer[7] = UInt8(ascii: "-")
            buffer[10] = UInt8(ascii: "T")
            buffer[13] = UInt8(ascii: ":")
            buffer[16] = UInt8(ascii: ":")
            buffer[19] = UInt8(ascii: ".")
            buffer[23] = UInt8(ascii: "Z")
            return 24
        }
    }

    static func parse(_ p: UnsafePointer<UInt8>, count: Int) -> Int64? {
        // Shortest form: "YYYY-MM-DDTHH:MM:SSZ" (20 bytes).
        guard count >= 20,
            let year = digits(p, 0, 4), p[4] == UInt8(ascii: "-"),
            let month = digits(p, 5, 2), p[7] == UInt8(ascii: "-"),
            let day = digits(p, 8, 2),
            p[10] == UInt8(ascii: "T") || p[10] == UInt8(ascii: "t") || p[10] == UInt8(ascii: " "),
            let hour = digits(p, 11, 2), p[13] == UInt8(ascii: ":"),
            let minute = digits(p, 14, 2), p[16] == UInt8(ascii: ":"),
            let second = digits(p, 17, 2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month),
            hour < 24, minute < 60, second < 60
        else { return nil }

        var index = 19
        var millisecond: Int64 = 0
        if p[index] == UInt8(ascii: ".") {
            index += 1
            let fractionStart = index
            var scale: Int64 = 100
            while index < count, let digit = digitValue(p[index]) {
                millisecond += digit * scale
                scale /= 10
                index += 1
            }
            guard index > fractionStart else { return nil }
        }
        guard index < count else { return nil }

        var offsetMinutes: Int64 = 0
        switch p[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard count - index >= 6, let offsetHour = digits(p, index + 1, 2), p[index + 3] == UInt8(ascii: ":"),
                let offsetMinute = digits(p, index + 4, 2), offsetHour < 24, offsetMinute < 60
            else { return nil }
            offsetMinutes = offsetHour * 60 + offsetMinute
            if p[index] == UInt8(ascii: "-") { offsetMinutes = -offsetMinutes }
            index += 6
        default:
            return nil
        }
        guard index == count else { return nil }

        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offsetMinutes * 60
        return seconds * 1_000 + millisecond
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The inverse of ``daysFromCivil(year:month:day:)`` (Howard Hinnant's `civil_from_days`).
    static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> (quotient: Int64, remainder: Int64) {
        let remainder = a % b
        return remainder < 0 ? (a / b - 1, remainder + b) : (a / b, remainder)
    }

    @inline(__always)
    private static func digitValue(_ byte: UInt8) -> Int64? {
        let value = byte &- UInt8(ascii: "0")
        return value < 10 ? Int64(value) : nil
    }

    @inline(__always)
    private static func digits(_ p: UnsafePointer<UInt8>, _ start: Int, _ width: Int) -> Int64? {
        var value: Int64 = 0
        for index in start..<start + width {
            guard let digit = digitValue(p[index]) else { return nil }
            value = value * 10 + digit
        }
        return value
    }
}
