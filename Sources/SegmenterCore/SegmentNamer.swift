/// Names segments from their centers' profiles so that marketers see "High-value buyers" instead of "3". Each
/// archetype is a direction in the standardised space over named features of the default e-commerce set; a
/// center takes the archetype it points to most strongly (each archetype used once), otherwise "Segment <id>".
/// Feature specs without these names simply get "Segment <id>" names; configuration can override any name.
public enum SegmentNamer {
    struct Archetype {
        let name: String
        /// Ordered pairs, not a dictionary: the sum must be taken in the same order in every process.
        let direction: KeyValuePairs<String, Double>
    }

    static let archetypes: [Archetype] = [
        Archetype(name: "Dormant", direction: [
            "lapsed": 2, "days_since_last_event": 1.5, "sessions_30d": -0.5, "events_30d": -0.5,
        ]),
        Archetype(name: "High-value buyers", direction: [
            "revenue_30d": 1, "avg_order_value": 1, "orders_30d": 0.7, "days_since_last_order": -0.5,
        ]),
        Archetype(name: "Cart abandoners", direction: [
            "cart_abandonment": 1.5, "carts_30d": 1, "orders_30d": -0.3,
        ]),
        Archetype(name: "Bargain hunters", direction: [
            "searches_30d": 1, "avg_order_value": -0.7, "orders_30d": 0.7, "refund_ratio": 0.5,
        ]),
        Archetype(name: "Window shoppers", direction: [
            "product_views_30d": 1, "distinct_categories": 0.8, "orders_30d": -0.7, "carts_30d": -0.5,
            "days_since_last_order": 0.5,
        ]),
        Archetype(name: "One-time buyers", direction: [
            "days_since_last_order": 0.7, "orders_30d": -0.3, "sessions_30d": -0.7, "avg_order_value": 0.5,
            "days_since_last_event": 0.3,
        ]),
        Archetype(name: "Engaged browsers", direction: [
            "sessions_30d": 1, "events_per_session": 0.7, "orders_30d": -0.3,
        ]),
    ]

    /// Generated names by center id, then `overrides` on top. Names are unique.
    public static func names(
        centers: [Center], spec: FeatureSpec, overrides: [Int: String] = [:]
    ) -> [Int: String] {
        var scored: [(score: Double, center: Int, archetype: Int)] = []
        for (c, center) in centers.enumerated() {
            for (a, archetype) in archetypes.enumerated() {
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
        for center in centers where names[center.id] == nil {
            names[center.id] = "Segment \(center.id)"
        }
        return names
    }
}
