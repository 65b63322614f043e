import Foundation

/// A ``FeatureSpec`` compiled into slot positions: where each feature keeps its accumulators inside a
/// ``CustomerState``, which slots decay together and with which half-life. Built once per spec and shared.
public struct FeatureLayout: Sendable {
    enum Step: Sendable {
        case count(slot: Int, types: EventTypeMask, halfLifeMs: Double?)
        case sum(slot: Int, property: NumericProperty, types: EventTypeMask, halfLifeMs: Double?)
        case sessions(slot: Int, halfLifeMs: Double?)
        case daysSince(slot: Int, types: EventTypeMask, capDays: Double)
        case lapsed(slot: Int, types: EventTypeMask, afterMs: Double)
        case ratio(numerator: Int, denominator: Int)
        case cartAbandonment(slot: Int)
        case distinct(slot: Int, property: StringProperty, limit: Int)
        case share(slot: Int, property: StringProperty, valueHash: UInt64)
    }

    public let spec: FeatureSpec
    let steps: [Step]
    /// The spec has a lapse line (a `lapsed` feature). Stored: every timer probe asks.
    public let hasLapseFeature: Bool
    /// Slots that decay, grouped by half-life in milliseconds.
    let decayGroups: [(halfLifeMs: Double, slots: [Int])]
    /// Slots that hold times (epoch ms) rather than amounts; they start at -infinity.
    let timeSlots: [Int]
    /// How each slot is stored (see ``CustomerState/encode(into:)``).
    let slotEncodings: [SlotEncoding]
    /// The slots stored as Float32 amounts.
    let amountSlots: [Int]

    enum SlotEncoding: Sendable {
        /// Times: a Double, exact.
        case time
        /// 32-bit hashes of distinct values: a UInt32, exact.
        case hash
        /// Counts, sums and ratios' parts: a Float32 (7 significant digits are plenty for features).
        case amount
    }
    public let slotCount: Int

    public var dimensions: Int { steps.count }

    /// Compiles `spec`. The spec must be free of ``FeatureSpec/problems()``.
    public init(spec: FeatureSpec) {
        precondition(spec.problems().isEmpty, "invalid feature spec: \(spec.problems())")
        self.spec = spec
        var steps: [Step] = []
        var next = 0
        var groups: [Double: [Int]] = [:]
        var timeSlots: [Int] = []
        func take(_ n: Int) -> Int {
            defer { next += n }
            return next
        }
        func decaying(_ slot: Int, _ halfLifeDays: Double?) -> Double? {
            guard let halfLifeDays else { return nil }
            let ms = halfLifeDays * 86_400_000
            groups[ms, default: []].append(slot)
            return ms
        }
        for feature in spec.features {
            switch feature.kind {
            case .count(let types, let h):
                let slot = take(1)
                steps.append(.count(slot: slot, types: EventTypeMask(types), halfLifeMs: decaying(slot, h)))
            case .sum(let property, let types, let h):
                let slot = take(1)
                steps.append(.sum(slot: slot, property: property, types: EventTypeMask(types),
                                  halfLifeMs: decaying(slot, h)))
            case .sessions(let h):
                let slot = take(1)
                steps.append(.sessions(slot: slot, halfLifeMs: decaying(slot, h)))
            case .daysSince(let types, let cap):
                let slot = take(1)
                timeSlots.append(slot)
                steps.append(.daysSince(slot: slot, types: EventTypeMask(types), capDays: cap))
            case .lapsed(let types, let days):
                let slot = take(1)
                timeSlots.append(slot)
                steps.append(.lapsed(slot: slot, types: EventTypeMask(types), afterMs: days * 86_400_000))
            case .ratio(let numerator, let denominator):
                steps.append(.ratio(numerator: spec.index(of: numerator)!, denominator: spec.index(of: denominator)!))
            case .cartAbandonment:
                steps.append(.cartAbandonment(slot: take(2)))
            case .distinct(let property, let limit):
                steps.append(.distinct(slot: take(limit), property: property, limit: limit))
            case .share(let property, let value):
                steps.append(.share(slot: take(2), property: property, valueHash: StableHash.fnv1a64(value)))
            }
        }
        self.steps = steps
        hasLapseFeature = steps.contains { if case .lapsed = $0 { true } else { false } }
        self.decayGroups = groups.keys.sorted().map { ($0, groups[$0]!) }
        self.timeSlots = timeSlots
        self.slotCount = next
        var encodings = [SlotEncoding](repeating: .amount, count: next)
        for slot in timeSlots { encodings[slot] = .time }
        for step in steps {
            if case .distinct(let slot, _, let limit) = step {
                for i in slot..<(slot + limit) { encodings[i] = .hash }
            }
        }
        self.slotEncodings = encodings
        amountSlots = encodings.indices.filter { encodings[$0] == .amount }
    }
}

/// A set of event types as a bit mask; the empty set means "every type".
struct EventTypeMask: Sendable, Hashable {
    let bits: UInt16

    init(_ types: Set<EventType>) {
        bits = types.isEmpty ? UInt16.max : types.reduce(0) { $0 | (1 << UInt16($1.rawValue)) }
    }

    @inline(__always)
    func contains(_ type: EventType) -> Bool {
        bits & (1 << UInt16(type.rawValue)) != 0
    }
}

/// Deterministic hashes (Swift's `Hasher` is seeded per process, so it cannot be stored or replayed).
public enum StableHash {
    @inline(__always)
    public static func fnv1a64(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3
        }
        return hash
    }
}
