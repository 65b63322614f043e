import Foundation
import Testing

@testable import SegmenterCore

@Suite("customer features")
struct CustomerStateTests {
    static let t0: Int64 = 1_772_366_400_000  // 2026-03-01T12:00:00Z
    static let hour: Int64 = 3_600_000
    static let day: Int64 = 86_400_000
    let layout = FeatureLayout(spec: .ecommerce(halfLifeDays: 30))

    func value(_ name: String, _ state: CustomerState, at time: Int64) -> Double {
        var values: [Double] = []
        state.features(at: time, layout: layout, into: &values)
        return values[layout.spec.index(of: name)!]
    }

    func event(_ type: EventType, at time: Int64, session: String? = "s1", value: Double? = nil,
               category: String? = nil, device: String? = nil, id: String? = nil) -> Event {
        Event(eventID: id, customerID: "c-1", type: type, timestamp: time, sessionID: session, value: value,
              category: category, device: device)
    }

    @Test("a short sequence gives hand-computed counts, sums, ratios, abandonment and recency")
    func handComputed() {
        var state = CustomerState(layout: layout)
        let t = Self.t0
        // Session 1: views, a cart, a purchase of 100 (not abandoned). Session 2: a cart only (abandoned).
        // Session 3, same instant as the last: a purchase of 50 and a refund.
        let events = [
            event(.sessionStart, at: t, category: nil, device: "mobile"),
            event(.productView, at: t + 1_000, category: "shoes", device: "mobile"),
            event(.productView, at: t + 2_000, category: "bags", device: "desktop"),
            event(.addToCart, at: t + 3_000),
            event(.purchase, at: t + 4_000, value: 100),
            event(.addToCart, at: t + 5_000, session: "s2", category: "shoes"),
            event(.purchase, at: t + 6_000, session: "s3", value: 50),
            event(.refund, at: t + 6_000, session: "s3", value: 50),
        ]
        for e in events { state.apply(e, layout: layout) }
        let now = t + 6_000
        // Decay over 6 seconds of a 30-day half-life is below 1e-5: compare with a tolerance.
        func near(_ name: String, _ expected: Double) {
            #expect(abs(value(name, state, at: now) - expected) < 1e-4, "\(name)")
        }
        near("sessions_30d", 3)
        near("events_30d", 8)
        near("events_per_session", 8.0 / 3.0)
        near("product_views_30d", 2)
        near("carts_30d", 2)
        near("orders_30d", 2)
        near("revenue_30d", 150)
        near("avg_order_value", 75)
        near("cart_abandonment", 0.5)  // two sessions with a cart, one without a purchase after it
        near("refund_ratio", 0.5)
        near("days_since_last_event", 0)
        near("days_since_last_order", 0)
        near("distinct_categories", 2)
        near("mobile_share", 2.0 / 3.0)  // 3 events carry a device, 2 of them mobile
    }

    @Test("decayed counts halve after exactly one half-life without events, and recency counts days")
    func decayAndRecency() {
        var state = CustomerState(layout: layout)
        state.apply(event(.purchase, at: Self.t0, value: 80), layout: layout)
        state.apply(event(.purchase, at: Self.t0, value: 20), layout: layout)
        let later = Self.t0 + 30 * Self.day
        #expect(abs(value("orders_30d", state, at: later) - 1) < 1e-12)
        #expect(abs(value("revenue_30d", state, at: later) - 50) < 1e-9)
        #expect(abs(value("avg_order_value", state, at: later) - 50) < 1e-9, "ratios of equally decayed sums stay")
        #expect(abs(value("days_since_last_event", state, at: later) - 30) < 1e-12)
        #expect(abs(value("days_since_last_order", state, at: Self.t0 + 36 * Self.hour) - 1.5) < 1e-12)
        // A new event after another half-life adds 1 to the halved value.
        state.apply(event(.purchase, at: Self.t0 + 60 * Self.day, session: "s9", value: 10), layout: layout)
        #expect(abs(value("orders_30d", state, at: Self.t0 + 60 * Self.day) - 1.5) < 1e-12)
    }

    @Test("a customer with no purchase has days_since_last_order at its cap")
    func recencyCap() {
        var state = CustomerState(layout: layout)
        state.apply(event(.pageView, at: Self.t0), layout: layout)
        #expect(value("days_since_last_order", state, at: Self.t0) == 90)
        #expect(value("days_since_last_event", state, at: Self.t0 + 400 * Self.day) == 365)
    }

    @Test("a late event gives the same decayed value as the same events in order")
    func lateEvents() {
        var inOrder = CustomerState(layout: layout)
        var late = CustomerState(layout: layout)
        let a = event(.productView, at: Self.t0, session: "a")
        let b = event(.productView, at: Self.t0 + 10 * Self.day, session: "b")
        inOrder.apply(a, layout: layout)
        inOrder.apply(b, layout: layout)
        late.apply(b, layout: layout)
        late.apply(a, layout: layout)
        let at = Self.t0 + 20 * Self.day
        #expect(abs(value("product_views_30d", inOrder, at: at) - value("product_views_30d", late, at: at)) < 1e-12)
        #expect(late.lastEventAt == b.timestamp)
    }

    @Test("distinct categories are counted up to their limit")
    func distinctBounded() {
        let spec = FeatureSpec(features: [.init("cats", .distinct(property: .category, limit: 3))])
        let layout = FeatureLayout(spec: spec)
        var state = CustomerState(layout: layout)
        for (i, c) in ["a", "b", "a", "c", "d", "e"].enumerated() {
            state.apply(Event(customerID: "c", type: .productView, timestamp: Int64(i), category: c), layout: layout)
        }
        var values: [Double] = []
        state.features(at: 10, layout: layout, into: &values)
        #expect(values == [3])
    }

    @Test("a repeated event id is recognised within the window and forgotten beyond it")
    func duplicateWindow() {
        var state = CustomerState(layout: layout)
        var remembered: [Bool] = [state.rememberEventID("e-1"), state.rememberEventID("e-1")]
        for i in 2...(CustomerState.recentEventIDCapacity + 1) { remembered.append(state.rememberEventID("e-\(i)")) }
        let again = state.rememberEventID("e-1")
        #expect(remembered[0] && !remembered[1], "a repeat within the window is a duplicate")
        #expect(remembered.dropFirst(2).allSatisfy { $0 })
        #expect(again, "the window holds the last \(CustomerState.recentEventIDCapacity) ids only")
    }

    @Test("the stored form keeps times and distinct values exactly, amounts to 7 digits, and refuses another layout")
    func encoding() throws {
        var state = CustomerState(layout: layout)
        state.apply(event(.purchase, at: Self.t0, value: 12.5, category: "x", device: "mobile", id: "e-1"),
                    layout: layout)
        state.apply(event(.productView, at: Self.t0 + 3 * Self.day, session: "s2", category: "y", id: "e-2"),
                    layout: layout)
        let bytes = state.encoded(layout: layout)
        let decoded = try CustomerState(encoded: bytes, layout: layout)
        #expect(decoded.lastEventAt == state.lastEventAt)
        #expect(decoded.recentEventIDs == state.recentEventIDs)
        for (i, kind) in layout.slotEncodings.enumerated() {
            switch kind {
            case .time, .hash: #expect(decoded.slots[i] == state.slots[i], "slot \(i) exact")
            case .amount: #expect(abs(decoded.slots[i] - state.slots[i]) <= 1e-6 * max(1, abs(state.slots[i])))
            }
        }
        var a: [Double] = [], b: [Double] = []
        state.features(at: Self.t0 + 10 * Self.day, layout: layout, into: &a)
        decoded.features(at: Self.t0 + 10 * Self.day, layout: layout, into: &b)
        for (x, y) in zip(a, b) { #expect(abs(x - y) <= 1e-5 * max(1, abs(x))) }
        // 68 of them are the activity summary of the lifecycle model (issue 24); the target is 300 per customer.
        #expect(bytes.count < 160, "compact: \(bytes.count) bytes")
        let other = FeatureLayout(spec: FeatureSpec(features: [.init("n", .count(types: [], halfLifeDays: nil))]))
        #expect(throws: CustomerStateDecodingError.self) { try CustomerState(encoded: bytes, layout: other) }
    }
}
