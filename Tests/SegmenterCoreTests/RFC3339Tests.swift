import Testing
@testable import SegmenterCore

@Suite("RFC3339")
struct RFC3339Tests {
    @Test("parses with and without fractional seconds, Z and offsets, to epoch milliseconds")
    func parses() {
        #expect(RFC3339.parse("1970-01-01T00:00:00Z") == 0)
        #expect(RFC3339.parse("2026-01-01T00:00:00Z") == 1_767_225_600_000)
        #expect(RFC3339.parse("2026-03-01T12:00:00.031Z") == 1_772_366_400_031)
        #expect(RFC3339.parse("2026-03-01T12:00:00.9999Z") == 1_772_366_400_999)
        #expect(RFC3339.parse("2026-03-01T14:00:00+02:00") == 1_772_366_400_000)
        #expect(RFC3339.parse("2026-03-01T11:15:00-00:45") == 1_772_366_400_000)
        #expect(RFC3339.parse("2024-02-29T00:00:00Z") == 1_709_164_800_000)
        #expect(RFC3339.parse("1969-12-31T23:59:59.999Z") == -1)
        #expect(RFC3339.parse("0000-01-01T00:00:00Z") == RFC3339.minEpochMilliseconds)
        #expect(RFC3339.parse("9999-12-31T23:59:59.999Z") == RFC3339.maxEpochMilliseconds)
    }

    @Test("rejects out-of-range fields and malformed text")
    func rejects() {
        let bad = [
            "", "2026-03-01", "2026-03-01T12:00Z", "2026-00-01T00:00:00Z", "2026-13-01T00:00:00Z",
            "2026-02-29T00:00:00Z", "2100-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-03-00T00:00:00Z",
            "2026-03-01T24:00:00Z", "2026-03-01T12:60:00Z", "2026-03-01T12:00:60Z", "2026-03-01T12:00:00",
            "2026-03-01T12:00:00.Z", "2026-03-01T12:00:00+0100", "2026-03-01T12:00:00+24:00",
            "2026-03-01T12:00:00+01:60", "2026-03-01T12:00:00Zx", "2026-03-01X12:00:00Z", "２026-03-01T12:00:00Z",
            "+2026-03-01T12:00:00Z", "2026/03/01T12:00:00Z",
        ]
        for text in bad {
            #expect(RFC3339.parse(text) == nil, "\(text)")
        }
    }

    @Test("formats UTC with exactly three fractional digits")
    func formats() {
        #expect(RFC3339.format(1_772_366_400_031) == "2026-03-01T12:00:00.031Z")
        #expect(RFC3339.format(0) == "1970-01-01T00:00:00.000Z")
        #expect(RFC3339.format(-1) == "1969-12-31T23:59:59.999Z")
        #expect(RFC3339.format(RFC3339.maxEpochMilliseconds) == "9999-12-31T23:59:59.999Z")
    }

    @Test("format then parse is the identity over the representable range")
    func roundTrip() {
        var rng = SplitMix64(seed: 7)
        let span = UInt64(RFC3339.maxEpochMilliseconds - RFC3339.minEpochMilliseconds)
        for _ in 0..<20_000 {
            let ms = RFC3339.minEpochMilliseconds + Int64(rng.next() % span)
            #expect(RFC3339.parse(RFC3339.format(ms)) == ms, "\(ms)")
        }
    }

    @Test("days-from-civil agrees with counting days one by one across leap years and centuries")
    func daysFromCivil() {
        var days = RFC3339.daysFromCivil(year: 1896, month: 1, day: 1)
        #expect(days == -27_028)
        for year in Int64(1896)...2104 {
            for month in Int64(1)...12 {
                for day in 1...RFC3339.daysInMonth(year: year, month: month) {
                    #expect(RFC3339.daysFromCivil(year: year, month: month, day: day) == days)
                    #expect(RFC3339.civil(fromDays: days) == (year, month, day))
                    days += 1
                }
            }
        }
    }
}
