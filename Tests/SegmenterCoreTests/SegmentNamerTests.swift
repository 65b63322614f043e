import Testing

@testable import SegmenterCore

@Suite("segment names")
struct SegmentNamerTests {
    let spec = FeatureSpec.ecommerce()

    func center(_ id: Int, _ profile: [String: Double]) -> Center {
        var vector = [Double](repeating: 0, count: spec.features.count)
        for (name, z) in profile { vector[spec.index(of: name)!] = z * spec.features[spec.index(of: name)!].weight }
        return Center(id: id, vector: vector, count: 1, lastWin: 0)
    }

    @Test("profiles are named after what stands out: recency → Dormant, revenue and order value → High-value")
    func archetypes() {
        let names = SegmentNamer.names(centers: [
            center(1, ["days_since_last_event": 2, "sessions_30d": -1]),
            center(2, ["revenue_30d": 2, "avg_order_value": 1.5, "orders_30d": 1]),
            center(3, ["cart_abandonment": 2, "carts_30d": 1.5]),
        ], spec: spec)
        #expect(names == [1: "Dormant", 2: "High-value buyers", 3: "Cart abandoners"])
    }

    @Test("names are unique, user names win, and a spec without known features is named by its features")
    func overridesAndFallback() {
        let names = SegmentNamer.names(centers: [
            center(1, ["days_since_last_event": 2]), center(2, ["days_since_last_event": 1.9]),
        ], spec: spec, overrides: [2: "Sleepers"])
        #expect(names[1] == "Dormant" && names[2] == "Sleepers")
        let plain = FeatureSpec(features: [.init("x", .count(types: [], halfLifeDays: nil))])
        let numbered = SegmentNamer.names(centers: [Center(id: 4, vector: [1], count: 1, lastWin: 0)], spec: plain)
        #expect(numbered == [4: "More x"])
    }

    @Test("a name must be true of the profile: a center whose customers never ordered is not buyers")
    func namesHold() {
        let buyerLike = center(1, ["revenue_30d": 2, "avg_order_value": 1.5, "orders_30d": 1])
        var profile = [Double](repeating: 1, count: spec.features.count)
        profile[spec.index(of: "orders_30d")!] = 0
        profile[spec.index(of: "avg_order_value")!] = 0
        let named = SegmentNamer.names(centers: [buyerLike], spec: spec, profiles: [1: profile])
        #expect(!named[1]!.contains("buyers"), "named \(named[1]!)")
        #expect(!named[1]!.hasPrefix("Segment"))
        profile[spec.index(of: "orders_30d")!] = 2
        profile[spec.index(of: "avg_order_value")!] = 150
        #expect(SegmentNamer.names(centers: [buyerLike], spec: spec, profiles: [1: profile]) == [1: "High-value buyers"])
    }
}
