import Testing

@testable import SegmenterCore

@Suite("segment change JSON")
struct SegmentChangeJSONTests {
    @Test("feature values are written with at most 6 significant digits and as integers when whole")
    func numbers() throws {
        for (value, expected) in [
            (0.0, "0"), (3.0, "3"), (-2.0, "-2"), (0.5, "0.5"), (412.5, "412.5"), (1_234_567.0, "1234567"),
            (0.1234567, "0.123457"), (2.0 / 3.0, "0.666667"), (1_234.56789, "1234.57"), (0.000_012_345_678, "1.23457e-05"),
            (99_999.96, "100000"), (.nan, "0"),
        ] {
            #expect(SegmentChange.number(value) == expected, "\(value)")
        }
    }
}
