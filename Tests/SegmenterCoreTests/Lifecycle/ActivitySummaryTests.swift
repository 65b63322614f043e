import Testing

@testable import SegmenterCore

@Suite("activity summary")
struct ActivitySummaryTests {
    static let day: Int64 = 86_400_000
    static let t0: Int64 = 1_772_323_200_000  // 2026-03-01T00:00:00Z
    let layout = FeatureLayout(spec: .ecommerce(halfLifeDays: 30))

    func at(_ days: Double) -> Int64 { Self.t0 + Int64(days * Double(Self.day)) }

    @Test("counts distinct UTC days of activity and of purchases, whatever the order within the window")
    func distinctDays() {
        var summary = ActivitySummary()
        summary.record(at: at(0.1), isPurchase: false, value: nil)
        summary.record(at: at(0.9), isPurchase: true, value: 10)  // same day
        summary.record(at: at(3.5), isPurchase: true, value: 20)
        summary.record(at: at(2.5), isPurchase: false, value: nil)  // late, a new day
        summary.record(at: at(3.2), isPurchase: true, value: 5)  // late, same purchase day
        summary.record(at: at(-1.5), isPurchase: false, value: nil)  // before the first
        #expect(summary.activeDays == 4)
        #expect(summary.purchaseDays == 2)
        #expect(summary.firstActivityAt == at(-1.5))
        #expect(summary.lastActivityAt == at(3.5))
        #expect(summary.firstPurchaseDayValue == 10)
        #expect(summary.repeatPurchaseValue == 25)
        #expect(summary.repeatValueDays == 1)
        #expect(summary.totalPurchaseValue == 35)
    }

    @Test("a late purchase before the first makes the former first purchase day a repeat day")
    func latePurchaseBeforeFirst() {
        var summary = ActivitySummary()
        summary.record(at: at(5), isPurchase: true, value: 30)
        summary.record(at: at(1), isPurchase: true, value: 7)
        #expect(summary.purchaseDays == 2)
        #expect(summary.firstPurchaseDayValue == 7)
        #expect(summary.averageRepeatValue == 30)
    }

    @Test("a customer state round-trips its summary through the stored form, within the size target")
    func roundTrip() throws {
        var state = CustomerState(layout: layout)
        for (i, type) in [EventType.productView, .purchase, .addToCart, .purchase].enumerated() {
            state.apply(Event(customerID: "c", type: type, timestamp: at(Double(i) * 1.7), value: 12.5), layout: layout)
        }
        let bytes = state.encoded(layout: layout)
        let decoded = try CustomerState(encoded: bytes, layout: layout)
        #expect(decoded == state)
        #expect(decoded.activity.activeDays == 4)
        #expect(decoded.activity.purchaseDays == 2)
        #expect(bytes.count <= 300)
    }

    @Test("a state stored before summaries existed still decodes, as one active day at its last event")
    func oldStateDecodes() throws {
        var state = CustomerState(layout: layout)
        state.apply(Event(customerID: "c", type: .productView, timestamp: at(0)), layout: layout)
        state.apply(Event(customerID: "c", type: .productView, timestamp: at(2)), layout: layout)
        var bytes = state.encoded(layout: layout)
        bytes.removeLast(ActivitySummary.encodedSize)
        bytes[0] = CustomerState.encodingVersionWithoutActivity
        let decoded = try CustomerState(encoded: bytes, layout: layout)
        #expect(decoded.slots == state.slots)
        #expect(decoded.activity.activeDays == 1)
        #expect(decoded.activity.firstActivityAt == at(2))
        #expect(decoded.activity.lastActivityAt == at(2))
    }

    @Test("merging two ids' summaries counts a day both were active on once")
    func merge() {
        var a = ActivitySummary(), b = ActivitySummary()
        a.record(at: at(0), isPurchase: true, value: 10)
        a.record(at: at(2), isPurchase: false, value: nil)
        b.record(at: at(2.5), isPurchase: false, value: nil)
        b.record(at: at(4), isPurchase: true, value: 20)
        a.merge(b)
        #expect(a.activeDays == 3)
        #expect(a.purchaseDays == 2)
        #expect(a.firstPurchaseDayValue == 10)
        #expect(a.repeatPurchaseValue == 20)
        #expect(a.firstActivityAt == at(0))
        #expect(a.lastActivityAt == at(4))
    }
}
