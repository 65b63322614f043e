import Testing

@testable import SegmenterCore

@Suite("RFM scores")
struct RFMScaleTests {
    @Test("quintile cuts split 100 distinct values into five groups of 20")
    func quintiles() {
        let cuts = RFMScale.quintileCuts((1...100).map(Double.init).reversed())
        #expect(cuts == [20, 40, 60, 80])
        let scores = (1...100).map { RFMScale.score(Double($0), cuts) }
        for s in 1...5 {
            #expect(scores.filter { $0 == s }.count == 20)
        }
    }

    @Test("the most recent, most frequent, biggest spenders score 5 and the opposite score 1")
    func scoring() throws {
        let day: Int64 = 86_400_000
        let now: Int64 = 100 * day
        func customer(_ index: Int64) -> ActivitySummary {
            var s = ActivitySummary()
            for d in 0...index { s.record(at: (50 + d) * day - index * day, isPurchase: true, value: 10) }
            s.record(at: now - (50 - index) * day, isPurchase: false, value: nil)
            return s
        }
        let sample = (0..<50).map(customer)
        let scale = RFMScale(sample: sample, at: now)
        #expect(scale.scores(sample[49], at: now) == RFMScores(r: 5, f: 5, m: 5))
        #expect(scale.scores(sample[0], at: now) == RFMScores(r: 1, f: 1, m: 1))
        #expect(scale.scores(ActivitySummary(), at: now) == nil)
    }
}
