import SegmenterCore

/// Reads the `traits` and `audiences` sections (issue 16) and compiles them against the feature set, so that a bad
/// condition stops the start with the audience's id, the position in its condition and what was expected.
enum AudienceConfigurationReader {
    static func read(traits traitsSection: [ConfigReader], audiences audienceSection: [ConfigReader],
                     features: FeatureSpec, report: (String) -> Void) -> AudienceRules {
        var traits: [ComputedTrait] = []
        for entry in traitsSection {
            if let trait = readTrait(entry) { traits.append(trait) }
        }
        var audiences: [Audience] = []
        for entry in audienceSection {
            entry.rejectUnknownKeys(["id", "name", "when"])
            let id = entry.string("id", default: "")
            let when = entry.string("when", default: "")
            if when.isEmpty {
                entry.report("\(entry.field("when")): every audience needs a condition, e.g. "
                    + "when: \"orders_30d >= 2 and revenue_30d > 150\"")
            }
            audiences.append(Audience(id: id, name: entry.string("name", default: id), when: when))
        }
        do {
            return try AudienceRules(audiences: audiences, traits: traits, features: features)
        } catch {
            for problem in error.problems { report(problem) }
            return .none
        }
    }

    static let kinds = ComputedTrait.Kind.allCases.map(\.rawValue)

    private static func readTrait(_ entry: ConfigReader) -> ComputedTrait? {
        entry.rejectUnknownKeys(["name", "kind", "property", "events", "where", "window_days"])
        let name = entry.string("name", default: "")
        if name.isEmpty { entry.report("\(entry.field("name")): every trait needs a name") }
        let kindName = entry.string("kind", default: "")
        guard let kind = ComputedTrait.Kind(rawValue: kindName) else {
            entry.report("\(entry.field("kind")): \"\(kindName)\" is not one of \(kinds.joined(separator: ", "))")
            return nil
        }
        var property: ComputedTrait.Property?
        if let propertyName = entry.optionalString("property") {
            property = ComputedTrait.Property(name: propertyName)
            if property == nil {
                entry.report("\(entry.field("property")): \"\(propertyName)\" is not an event property; use value, "
                    + "quantity, category, product_id, device, channel, country or type")
            }
        }
        var types: Set<EventType> = []
        for typeName in entry.stringList("events") ?? [] where typeName != "*" {
            let type = EventType(wireName: typeName)
            if type == .other, typeName != "other" {
                entry.report("\(entry.field("events")): \"\(typeName)\" is not an event type; use "
                    + EventType.allCases.map(\.wireName).joined(separator: ", ") + " or *")
            }
            types.insert(type)
        }
        var filter: [StringProperty: String] = [:]
        for (key, value) in entry.stringMap("where") {
            guard let property = StringProperty(rawValue: key) else {
                entry.report("\(entry.field("where")).\(key): not a text property; use "
                    + StringProperty.allCases.map(\.rawValue).joined(separator: ", "))
                continue
            }
            filter[property] = value
        }
        let window = entry.has("window_days") ? entry.double("window_days", default: 30, in: 0.001...36_500) : nil
        return ComputedTrait(name: name, kind: kind, property: property, types: types, filter: filter,
                             windowDays: window)
    }
}
