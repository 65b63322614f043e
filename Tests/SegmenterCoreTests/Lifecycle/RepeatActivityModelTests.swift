import Testing

@testable import SegmenterCore

@Suite("repeat-activity model")
struct RepeatActivityModelTests {
    // Parameters of the order CDNOW gives, in days.
    let model = RepeatActivityModel(variant: .mbgnbd, r: 0.64, alpha: 51, a: 0.81, b: 1.23)

    @Test("p_alive only falls while time passes without activity")
    func monotone() {
        for (x, recency) in [(0.0, 0.0), (1, 10), (5, 100), (30, 300)] {
            var previous = 1.0
            for age in stride(from: recency, through: recency + 2_000, by: 0.5) {
                let p = model.pAlive(RepeatActivityObservation(repeatDays: x, recency: recency, age: age))
                #expect(p <= previous, "x \(x) t_x \(recency) T \(age)")
                previous = p
            }
            #expect(previous < 0.2)
        }
    }

    @Test("plain BG/NBD calls every one-time customer alive, MBG/NBD does not")
    func oneTimeCustomers() {
        let o = RepeatActivityObservation(repeatDays: 0, recency: 0, age: 400)
        var plain = model
        plain.variant = .bgnbd
        #expect(plain.pAlive(o) == 1)
        #expect(model.pAlive(o) < 0.5)
    }

    @Test("the closed-form age where p_alive reaches a threshold is where it is evaluated to cross it")
    func crossingAge() throws {
        for (x, recency) in [(0.0, 0.0), (2, 40), (12, 200)] {
            for threshold in [0.5, 0.2, 0.05] {
                let age = try #require(model.ageWhenPAliveReaches(threshold, repeatDays: x, recency: recency))
                func p(_ t: Double) -> Double {
                    model.pAlive(RepeatActivityObservation(repeatDays: x, recency: recency, age: t))
                }
                #expect(p(age - 1e-6) > threshold)
                #expect(p(age + 1e-6) < threshold)
            }
        }
    }

    @Test("expected active days grow with the horizon and with a customer's frequency")
    func expectations() {
        let light = RepeatActivityObservation(repeatDays: 1, recency: 30, age: 60)
        let heavy = RepeatActivityObservation(repeatDays: 10, recency: 58, age: 60)
        #expect(model.expectedActiveDays(horizon: 90, light) < model.expectedActiveDays(horizon: 180, light))
        #expect(model.expectedActiveDays(horizon: 90, light) < model.expectedActiveDays(horizon: 90, heavy))
        #expect(model.expectedActiveDays(horizon: 0, heavy) == 0)
    }

    @Test("a customer active almost every day for years gets a finite expectation below the horizon's days")
    func heavyCustomer() {
        let daily = RepeatActivityObservation(repeatDays: 1_500, recency: 1_599, age: 1_600)
        let expected = model.expectedActiveDays(horizon: 365, daily)
        #expect(expected.isFinite && expected > 200 && expected < 366, "\(expected)")
    }
}
