/// Names segments from their centers' profiles so that marketers see "High-value buyers" instead of "3". Each
/// archetype is a direction in the standardised space over named features of the default e-commerce set; a
/// center takes the archetype it points to most strongly (each archetype used once), otherwise "Segment <id>".
/// Feature specs without these names simply get "Segment <id>" names; configuration can override any name.
public enum SegmentNamer {
    struct Archetype {
        let name: String
        /// Ordered pairs, not a dictionary: the sum must be taken in the same order in every process.
        let direction: KeyValuePairs<String, Double>
        /// What must be true of the center's profile in user units for the name to be true of its members (a
        /// segment whose members mostly never ordered is not "buyers"); nil values are features the spec lacks.
        var holds: @Sendable ((String) -> Double?) -> Bool = { _ in true }
    }

    static let orders = "orders_30d"
    @Sendable static func buys(_ value: (String) -> Double?) -> Bool { (value(orders) ?? 1) >= 0.3 }
    @Sendable static func browses(_ value: (String) -> Double?) -> Bool { (value(orders) ?? 0) < 0.3 }

    static let archetypes: [Archetype] = [
        Archetype(name: "Dormant", direction: [
            "lapsed": 2, "days_since_last_event": 1.5, "sessions_30d": -0.5, "events_30d": -0.5,
        ], holds: { ($0("days_since_last_event") ?? 30) >= 14 }),
        Archetype(name: "High-value buyers", direction: [
            "revenue_30d": 1, "avg_order_value": 1, "orders_30d": 0.7, "days_since_last_order": -0.5,
        ], holds: buys),
        Archetype(name: "Cart abandoners", direction: [
            "cart_abandonment": 1.5, "carts_30d": 1, "orders_30d": -0.3,
        ], holds: { ($0("carts_30d") ?? 1) >= 0.3 }),
        Archetype(name: "Bargain hunters", direction: [
            "searches_30d": 1, "avg_order_value": -0.7, "orders_30d": 0.7, "refund_ratio": 0.5,
        ], holds: buys),
        Archetype(name: "Window shoppers", direction: [
            "product_views_30d": 1, "distinct_categories": 0.8, "orders_30d": -0.7, "carts_30d": -0.5,
            "days_since_last_order": 0.5,
        ], holds: browses),
        Archetype(name: "One-time buyers", direction: [
            "days_since_last_order": 0.7, "orders_30d": -0.3, "sessions_30d": -0.7, "avg_order_value": 0.5,
            "days_since_last_event": 0.3,
        ], holds: { ($0("avg_order_value") ?? 1) >= 1 }),
        Archetype(name: "Engaged browsers", direction: [
            "sessions_30d": 1, "events_per_session": 0.7, "orders_30d": -0.3,
        ], holds: browses),
        Archetype(name: "Recent buyers", direction: [
            "days_since_last_order": -1, "orders_30d": 0.5, "days_since_last_event": -0.5,
        ], holds: buys),
        Archetype(name: "Searchers", direction: ["searches_30d": 1, "product_views_30d": 0.3]),
        Archetype(name: "Occasional visitors", direction: [
            "sessions_30d": -1, "events_per_session": -0.5, "distinct_categories": -0.5,
        ], holds: browses),
    ]

    /// Generated names by center id, then `overrides` on top. Names are unique.
    ///
    /// `profiles` (each center's profile in user units, by center id) let an archetype check that its name is true of
    /// the center; a center no archetype fits is named after its most distinctive feature.
    public static func names(
        centers: [Center], spec: FeatureSpec, overrides: [Int: String] = [:], profiles: [Int: [Double]] = [:]
    ) -> [Int: String] {
        var scored: [(score: Double, center: Int, archetype: Int)] = []
        for (c, center) in centers.enumerated() {
            let profile = profiles[center.id]
            let value: (String) -> Double? = { name in spec.index(of: name).flatMap { profile?[$0] } }
            for (a, archetype) in archetypes.enumerated() where profile == nil || archetype.holds(value) {
                var dot = 0.0
                var norm = 0.0
                for (feature, weight) in archetype.direction {
                    guard let i = spec.index(of: feature), spec.features[i].weight > 0 else { continue }
                    dot += weight * center.vector[i] / spec.features[i].weight
                    norm += weight * weight
                }
                if norm > 0 {
                    scored.append((dot / norm.squareRoot(), c, a))
                }
            }
        }
        scored.sort { ($0.score, $1.center, $1.archetype) > ($1.score, $0.center, $0.archetype) }
        // Overridden centers take no archetype, and no archetype name a user gave to another center, so that
        // generated names never collide with overrides.
        var names = overrides.filter { id, _ in centers.contains { $0.id == id } }
        let overrideNames = Set(names.values)
        var usedArchetypes: Set<Int> = []
        for entry in scored where entry.score > 0.25 {
            let id = centers[entry.center].id
            let name = archetypes[entry.archetype].name
            guard names[id] == nil, !usedArchetypes.contains(entry.archetype), !overrideNames.contains(name) else {
                continue
            }
            names[id] = name
            usedArchetypes.insert(entry.archetype)
        }
        var taken = Set(names.values)
        for center in centers where names[center.id] == nil {
            names[center.id] = distinctiveName(center, spec: spec, taken: &taken)
        }
        return names
    }

    /// "More <feature>" or "Less <feature>" after the feature the center stands out on most (standardised), made
    /// unique; "Segment <id>" only when the spec has no weighted feature.
    static func distinctiveName(_ center: Center, spec: FeatureSpec, taken: inout Set<String>) -> String {
        let weighted = spec.features.indices.filter { spec.features[$0].weight > 0 && $0 < center.vector.count }
        guard let i = weighted.max(by: {
            abs(center.vector[$0] / spec.features[$0].weight) < abs(center.vector[$1] / spec.features[$1].weight)
        }) else { return "Segment \(center.id)" }
        let label = spec.features[i].name.split(separator: "_").joined(separator: " ")
        var name = (center.vector[i] >= 0 ? "More " : "Less ") + label
        if taken.contains(name) { name += " (\(center.id))" }
        taken.insert(name)
        return name
    }
}
