import Foundation

/// What Segmenter computes for every customer: an ordered list of named features, each with the events it
/// counts, the property it reads, its half-life, its transform before standardisation and its weight in the
/// distance (DESIGN §4). The default is the e-commerce set; configuration can replace it.
public struct FeatureSpec: Sendable, Hashable {
    public var features: [FeatureDefinition]

    public init(features: [FeatureDefinition]) {
        self.features = features
    }

    /// Index of the feature called `name`, if any.
    public func index(of name: String) -> Int? {
        features.firstIndex { $0.name == name }
    }

    /// A short, stable text that changes whenever a change to the spec would make stored customer state or a
    /// stored model meaningless (names, kinds, parameters, order). Weights and transforms are included too because
    /// the model's centers live in the weighted, transformed space.
    public var fingerprint: String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in canonicalDescription.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3
        }
        let hex = String(hash, radix: 16)
        return "v1-" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// Human-readable one-line-per-feature description, used for the fingerprint and for error messages.
    public var canonicalDescription: String {
        features.map(\.description).joined(separator: "\n")
    }

    /// Checks names are unique and ratios refer to earlier features; returns sentences naming each problem.
    public func problems() -> [String] {
        var problems: [String] = []
        var seen: Set<String> = []
        for (position, feature) in features.enumerated() {
            if feature.name.isEmpty {
                problems.append("features[\(position)]: name is empty")
            }
            if !seen.insert(feature.name).inserted {
                problems.append("features[\(position)]: name \"\(feature.name)\" is used twice")
            }
            if !(feature.weight.isFinite && feature.weight >= 0) {
                problems.append("features[\(position)] (\(feature.name)): weight must be a finite number ≥ 0")
            }
            switch feature.kind {
            case .count(_, let halfLife), .sum(_, _, let halfLife), .sessions(let halfLife):
                if let halfLife, !(halfLife.isFinite && halfLife > 0) {
                    problems.append("features[\(position)] (\(feature.name)): half_life_days must be > 0")
                }
            case .ratio(let numerator, let denominator):
                for operand in [numerator, denominator] where !features[..<position].contains(where: {
                    $0.name == operand
                }) {
                    problems.append(
                        "features[\(position)] (\(feature.name)): ratio refers to \"\(operand)\", "
                            + "which is not a feature defined before it")
                }
            case .distinct(_, let limit):
                if !(1...64).contains(limit) {
                    problems.append("features[\(position)] (\(feature.name)): limit must be between 1 and 64")
                }
            case .daysSince(_, let capDays):
                if !(capDays.isFinite && capDays > 0) {
                    problems.append("features[\(position)] (\(feature.name)): cap_days must be > 0")
                }
            case .lapsed(_, let afterDays):
                if !(afterDays.isFinite && afterDays > 0) {
                    problems.append("features[\(position)] (\(feature.name)): after_days must be > 0")
                }
            case .cartAbandonment, .share:
                break
            }
        }
        if features.isEmpty {
            problems.append("features: the list is empty; define at least one feature or remove the section")
        }
        return problems
    }
}

extension FeatureSpec {
    /// The default e-commerce feature set of DESIGN §4, with a 30-day half-life for activity; `lapseDays` adds a
    /// `lapsed` feature (weight 1.5): no event in that many days.
    public static func ecommerce(halfLifeDays: Double = 30, lapseDays: Double? = nil) -> FeatureSpec {
        let h = halfLifeDays
        let browsing: Set<EventType> = [.pageView, .productView]
        var spec = FeatureSpec(features: [
            .init("sessions_30d", .sessions(halfLifeDays: h), transform: .log1p),
            .init("events_30d", .count(types: [], halfLifeDays: h), transform: .log1p, weight: 0),
            .init("events_per_session", .ratio(numerator: "events_30d", denominator: "sessions_30d"),
                  transform: .log1p),
            .init("product_views_30d", .count(types: browsing, halfLifeDays: h), transform: .log1p),
            .init("searches_30d", .count(types: [.search], halfLifeDays: h), transform: .log1p),
            .init("carts_30d", .count(types: [.addToCart], halfLifeDays: h), transform: .log1p),
            .init("orders_30d", .count(types: [.purchase], halfLifeDays: h), transform: .log1p),
            .init("revenue_30d", .sum(property: .value, types: [.purchase], halfLifeDays: h), transform: .log1p),
            .init("refunds_30d", .count(types: [.refund], halfLifeDays: h), transform: .log1p, weight: 0),
            .init("avg_order_value", .ratio(numerator: "revenue_30d", denominator: "orders_30d"), transform: .log1p),
            .init("cart_abandonment", .cartAbandonment),
            .init("refund_ratio", .ratio(numerator: "refunds_30d", denominator: "orders_30d"), weight: 0.5),
            .init("days_since_last_event", .daysSince(types: [], capDays: 365), transform: .log1p),
            .init("days_since_last_order", .daysSince(types: [.purchase], capDays: 90), transform: .log1p),
            .init("distinct_categories", .distinct(property: .category, limit: 16), transform: .log1p),
            .init("mobile_share", .share(property: .device, value: "mobile"), weight: 0.25),
        ])
        if let lapseDays {
            spec.features.append(.init("lapsed", .lapsed(types: [], afterDays: lapseDays), weight: 1.5))
        }
        return spec
    }
}

/// One named feature of a ``FeatureSpec``.
public struct FeatureDefinition: Sendable, Hashable, CustomStringConvertible {
    /// How a feature is computed from a customer's events. Empty `types` means every event type.
    public enum Kind: Sendable, Hashable {
        /// Number of matching events; decayed with `halfLifeDays` when set.
        case count(types: Set<EventType>, halfLifeDays: Double?)
        /// Sum of a numeric property over matching events; decayed with `halfLifeDays` when set.
        case sum(property: NumericProperty, types: Set<EventType>, halfLifeDays: Double?)
        /// Number of distinct sessions (changes of `session_id`, or `session_start` events without one).
        case sessions(halfLifeDays: Double?)
        /// Days from the last matching event to the watermark; `capDays` when there was none (or it is older).
        case daysSince(types: Set<EventType>, capDays: Double)
        /// 1 when the customer had no matching event in the last `afterDays` days (or never had one), else 0: a
        /// lapse line a marketer can read, which time alone crosses (DESIGN §5).
        case lapsed(types: Set<EventType>, afterDays: Double)
        /// Value of one earlier feature divided by another; 0 when the denominator is 0.
        case ratio(numerator: String, denominator: String)
        /// Share of sessions with an `add_to_cart` that had no `purchase` after it (0 with no carts).
        case cartAbandonment
        /// Number of distinct values of a string property, counted up to `limit`.
        case distinct(property: StringProperty, limit: Int)
        /// Share of events carrying the property whose value equals `value` (case-sensitive).
        case share(property: StringProperty, value: String)
    }

    public var name: String
    public var kind: Kind
    public var transform: FeatureTransform
    /// Multiplies the standardised value: 0 keeps the feature for ratios and reports but out of the distance.
    public var weight: Double

    public init(_ name: String, _ kind: Kind, transform: FeatureTransform = .none, weight: Double = 1) {
        self.name = name
        self.kind = kind
        self.transform = transform
        self.weight = weight
    }

    public var description: String {
        func types(_ set: Set<EventType>) -> String {
            set.isEmpty ? "*" : set.map(\.wireName).sorted().joined(separator: "|")
        }
        func halfLife(_ h: Double?) -> String { h.map { "\($0)d" } ?? "none" }
        let kindText: String
        switch kind {
        case .count(let t, let h): kindText = "count(\(types(t)),\(halfLife(h)))"
        case .sum(let p, let t, let h): kindText = "sum(\(p.rawValue),\(types(t)),\(halfLife(h)))"
        case .sessions(let h): kindText = "sessions(\(halfLife(h)))"
        case .daysSince(let t, let cap): kindText = "days_since(\(types(t)),\(cap))"
        case .lapsed(let t, let days): kindText = "lapsed(\(types(t)),\(days))"
        case .ratio(let n, let d): kindText = "ratio(\(n),\(d))"
        case .cartAbandonment: kindText = "cart_abandonment"
        case .distinct(let p, let limit): kindText = "distinct(\(p.rawValue),\(limit))"
        case .share(let p, let v): kindText = "share(\(p.rawValue)=\(v))"
        }
        return "\(name)=\(kindText),\(transform.rawValue),w=\(weight)"
    }
}

/// Numeric event properties a feature can read.
public enum NumericProperty: String, Sendable, Hashable, CaseIterable {
    case value, quantity
}

/// String event properties a feature can read.
public enum StringProperty: String, Sendable, Hashable, CaseIterable {
    case category
    case productID = "product_id"
    case device, channel, country
}

/// Applied to a raw feature value before standardisation. `log1p` tames the long tails of counts and money.
public enum FeatureTransform: String, Sendable, Hashable, CaseIterable {
    case none
    case log1p

    @inline(__always)
    public func apply(_ x: Double) -> Double {
        switch self {
        case .none: x
        case .log1p: Double.log1pSafe(x)
        }
    }

    @inline(__always)
    public func invert(_ y: Double) -> Double {
        switch self {
        case .none: y
        case .log1p: Double.expm1Safe(y)
        }
    }
}

extension Double {
    @inline(__always)
    static func log1pSafe(_ x: Double) -> Double {
        x <= 0 ? 0 : log1p(x)
    }

    @inline(__always)
    static func expm1Safe(_ y: Double) -> Double {
        y <= 0 ? 0 : expm1(y)
    }
}
