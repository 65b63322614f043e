import SegmenterCore

/// Reads the `features` section: a preset, optional per-feature weight changes, and custom features that replace
/// preset ones of the same name or are appended.
enum FeatureSpecReader {
    static let kinds = [
        "count", "sum", "sessions", "days_since", "lapsed", "ratio", "cart_abandonment", "distinct", "share",
    ]

    static func read(_ section: ConfigReader) -> FeatureSpec {
        section.rejectUnknownKeys(["preset", "half_life_days", "lapse_days", "weights", "custom"])
        let halfLife = section.double("half_life_days", default: 30, in: 0.001...36_500)
        let lapse = section.optionalDouble("lapse_days", default: nil, in: 0.001...36_500)
        let ecommerce = FeatureSpec.ecommerce(halfLifeDays: halfLife, lapseDays: lapse)
        var spec = section.choice("preset", default: ecommerce, [
            "ecommerce": ecommerce, "none": FeatureSpec(features: []),
        ])
        for entry in section.list("custom") {
            guard let feature = readFeature(entry, defaultHalfLife: halfLife) else { continue }
            // Checked here rather than left to FeatureSpec.problems() so the message names the field in the file.
            if case .ratio(let numerator, let denominator) = feature.kind {
                let earlier = spec.features[..<(spec.index(of: feature.name) ?? spec.features.count)].map(\.name)
                let unknown = [("numerator", numerator), ("denominator", denominator)].filter {
                    !earlier.contains($0.1)
                }
                for (key, operand) in unknown {
                    entry.report("\(entry.field(key)): \"\(operand)\" is not a feature defined before this one; "
                        + "features are " + spec.features.map(\.name).joined(separator: ", "))
                }
                if !unknown.isEmpty { continue }
            }
            if let existing = spec.index(of: feature.name) {
                spec.features[existing] = feature
            } else {
                spec.features.append(feature)
            }
        }
        for (name, text) in section.stringMap("weights") {
            guard let index = spec.index(of: name) else {
                section.report("features.weights.\(name): no feature has this name; features are "
                    + spec.features.map(\.name).joined(separator: ", "))
                continue
            }
            guard let weight = Double(text), weight.isFinite, weight >= 0 else {
                section.report("features.weights.\(name): \"\(text)\" must be a number ≥ 0")
                continue
            }
            spec.features[index].weight = weight
        }
        return spec
    }

    static func readFeature(_ entry: ConfigReader, defaultHalfLife: Double) -> FeatureDefinition? {
        entry.rejectUnknownKeys([
            "name", "kind", "events", "property", "half_life_days", "cap_days", "after_days", "numerator", "denominator",
            "limit",
            "value", "transform", "weight",
        ])
        let name = entry.string("name", default: "")
        if name.isEmpty { entry.report("\(entry.field("name")): every custom feature needs a name") }
        let kindName = entry.string("kind", default: "")
        let events = eventTypes(entry)
        let halfLife: Double? = entry.has("half_life_days")
            ? entry.optionalDouble("half_life_days", default: defaultHalfLife, in: 0.001...36_500) : nil
        let kind: FeatureDefinition.Kind
        switch kindName {
        case "count": kind = .count(types: events, halfLifeDays: halfLife)
        case "sum":
            kind = .sum(property: entry.choice("property", default: .value, numericProperties),
                        types: events, halfLifeDays: halfLife)
        case "sessions": kind = .sessions(halfLifeDays: halfLife)
        case "days_since":
            kind = .daysSince(types: events, capDays: entry.double("cap_days", default: 365, in: 0.001...36_500))
        case "lapsed":
            kind = .lapsed(types: events, afterDays: entry.double("after_days", default: 28, in: 0.001...36_500))
        case "ratio":
            kind = .ratio(numerator: entry.string("numerator", default: ""),
                          denominator: entry.string("denominator", default: ""))
        case "cart_abandonment": kind = .cartAbandonment
        case "distinct":
            kind = .distinct(property: entry.choice("property", default: .category, stringProperties),
                             limit: entry.int("limit", default: 16, in: 1...64))
        case "share":
            kind = .share(property: entry.choice("property", default: .device, stringProperties),
                          value: entry.string("value", default: ""))
        default:
            entry.report("\(entry.field("kind")): \"\(kindName)\" is not one of \(kinds.joined(separator: ", "))")
            return nil
        }
        let transform = entry.choice("transform", default: FeatureTransform.none, ["none": .none, "log1p": .log1p])
        let weight = entry.double("weight", default: 1, in: 0...1_000)
        return FeatureDefinition(name, kind, transform: transform, weight: weight)
    }

    private static func eventTypes(_ entry: ConfigReader) -> Set<EventType> {
        guard let names = entry.stringList("events") else { return [] }
        var types: Set<EventType> = []
        for name in names where name != "*" {
            let type = EventType(wireName: name)
            if type == .other, name != "other" {
                entry.report("\(entry.field("events")): \"\(name)\" is not an event type; use "
                    + EventType.allCases.map(\.wireName).joined(separator: ", ") + " or *")
            }
            types.insert(type)
        }
        return types
    }

    private static var numericProperties: [String: NumericProperty] {
        Dictionary(uniqueKeysWithValues: NumericProperty.allCases.map { ($0.rawValue, $0) })
    }

    private static var stringProperties: [String: StringProperty] {
        Dictionary(uniqueKeysWithValues: StringProperty.allCases.map { ($0.rawValue, $0) })
    }
}
