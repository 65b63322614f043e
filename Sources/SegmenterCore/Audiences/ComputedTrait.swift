/// A computed trait: a per-customer value beside the features, kept in O(1) per event, that audience conditions can
/// read by name — "most frequent category", "last channel", "max order value in 90 days". Each reads the events of
/// `types` (all when empty) whose string properties equal `filter`, and one property.
public struct ComputedTrait: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// The property's value on the latest matching event (by event time).
        case last
        /// The property's value on the earliest matching event.
        case first
        /// The most frequent value of a text property among the matching events, counted over at most
        /// ``ComputedTrait/frequentCapacity`` candidates (space-saving: a new value replaces the rarest).
        case mostFrequent = "most_frequent"
        /// Number of matching events (in the window, when one is set).
        case count
        /// Sum of a numeric property over matching events (in the window).
        case sum
        /// Smallest value of a numeric property (in the window).
        case min
        /// Largest value of a numeric property (in the window).
        case max
    }

    /// What a trait reads from each event.
    public enum Property: Sendable, Hashable {
        case number(NumericProperty)
        case text(StringProperty)
        /// The event type's wire name (`purchase`, …), as text.
        case type

        public var name: String {
            switch self {
            case .number(let p): p.rawValue
            case .text(let p): p.rawValue
            case .type: "type"
            }
        }

        public init?(name: String) {
            if name == "type" {
                self = .type
            } else if let p = NumericProperty(rawValue: name) {
                self = .number(p)
            } else if let p = StringProperty(rawValue: name) {
                self = .text(p)
            } else {
                return nil
            }
        }
    }

    /// Candidates kept by `most_frequent`.
    public static let frequentCapacity = 8
    /// A window is kept as this many buckets of event time, so a windowed value is exact to window/buckets.
    public static let windowBuckets = 30

    public var name: String
    public var kind: Kind
    /// Nil for `count`.
    public var property: Property?
    public var types: Set<EventType>
    /// Only events whose text properties have these values count (e.g. `category: shoes`).
    public var filter: [StringProperty: String]
    /// For `count`, `sum`, `min` and `max`: only events of the last this many days count. Nil: all time.
    public var windowDays: Double?

    public init(
        name: String, kind: Kind, property: Property? = nil, types: Set<EventType> = [],
        filter: [StringProperty: String] = [:], windowDays: Double? = nil
    ) {
        self.name = name
        self.kind = kind
        self.property = property
        self.types = types
        self.filter = filter
        self.windowDays = windowDays
    }

    /// True when the trait's value is text (compared with quoted literals).
    public var isText: Bool {
        switch kind {
        case .mostFrequent: true
        case .last, .first:
            if case .number = property { false } else { true }
        case .count, .sum, .min, .max: false
        }
    }

    var isWindowed: Bool {
        guard windowDays != nil else { return false }
        switch kind {
        case .count, .sum, .min, .max: return true
        case .last, .first, .mostFrequent: return false
        }
    }

    var bucketMilliseconds: Int64 {
        Int64(((windowDays ?? 1) * 86_400_000 / Double(Self.windowBuckets)).rounded(.up))
    }

    /// Problems with the definition, each naming the trait. Empty when valid.
    public func problems(at position: Int) -> [String] {
        let field = "traits[\(position)] (\(name))"
        var problems: [String] = []
        if name.isEmpty { problems.append("traits[\(position)]: name is empty") }
        switch (kind, property) {
        case (.count, _): break
        case (_, nil):
            problems.append("\(field): \(kind.rawValue) needs a property (value, quantity, category, …)")
        case (.mostFrequent, .number?):
            problems.append("\(field): most_frequent needs a text property (category, product_id, device, "
                + "channel, country, type)")
        case (.sum, let p?), (.min, let p?), (.max, let p?):
            if case .number = p {} else {
                problems.append("\(field): \(kind.rawValue) needs a numeric property (value or quantity)")
            }
        default: break
        }
        if let windowDays {
            if !(windowDays.isFinite && windowDays > 0) {
                problems.append("\(field): window_days must be > 0")
            }
            if ![.count, .sum, .min, .max].contains(kind) {
                problems.append("\(field): window_days applies to count, sum, min and max only")
            }
        }
        return problems
    }

    /// Whether `event` counts for this trait.
    func matches(_ event: Event) -> Bool {
        if !types.isEmpty, !types.contains(event.type) { return false }
        for (property, value) in filter where event.string(property) != value { return false }
        return true
    }

    public var description: String {
        let filterText = filter.keys.sorted { $0.rawValue < $1.rawValue }.map { "\($0.rawValue)=\(filter[$0]!)" }
        return "\(name)=\(kind.rawValue)(\(property?.name ?? "-"),"
            + "\(types.map(\.wireName).sorted().joined(separator: "|")),\(filterText.joined(separator: "&")),"
            + "\(windowDays.map { "\($0)d" } ?? "all"))"
    }

    /// A stable hash of the definition: stored trait state is kept only while it matches.
    var fingerprint: UInt64 { StableHash.fnv1a64(description) }
}

/// The value of a trait or feature as a condition sees it.
public enum TraitValue: Sendable, Hashable, CustomStringConvertible {
    case number(Double)
    case text(String)

    public var description: String {
        switch self {
        case .number(let x): SegmentChange.number(x)
        case .text(let s): s
        }
    }
}
