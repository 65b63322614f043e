import Foundation

/// Everything Segmenter remembers about one customer's behaviour: the feature accumulators laid out by a
/// ``FeatureLayout``, the current session, and a short window of recent event ids for duplicate detection.
/// `apply` is O(number of features) per event, independent of the customer's history; decayed amounts are
/// kept as of ``lastEventAt`` and aged to the watermark when features are read, so replays give the same
/// answers as live runs.
public struct CustomerState: Sendable, Hashable {
    /// How many recent event ids are remembered for duplicate detection.
    public static let recentEventIDCapacity = 8
    static let sessionGapMs: Int64 = 30 * 60 * 1000

    public internal(set) var slots: [Double]
    /// Time of the latest event applied (epoch ms); `Int64.min` before the first.
    public internal(set) var lastEventAt: Int64
    var sessionKey: UInt64
    var sessionHasCart: Bool
    /// A purchase followed the session's first `add_to_cart`.
    var sessionHasPurchase: Bool
    var recentEventIDs: [UInt64]
    var recentNext: Int
    /// First and last activity, distinct active and purchase days and purchase values: the lifecycle models' input.
    public internal(set) var activity: ActivitySummary

    public init(layout: FeatureLayout) {
        slots = [Double](repeating: 0, count: layout.slotCount)
        for slot in layout.timeSlots {
            slots[slot] = -.infinity
        }
        lastEventAt = .min
        sessionKey = 0
        sessionHasCart = false
        sessionHasPurchase = false
        recentEventIDs = []
        recentNext = 0
        activity = ActivitySummary()
    }

    /// Remembers `eventID` and returns true, or returns false when it is among the recent ids (a duplicate).
    public mutating func rememberEventID(_ eventID: String) -> Bool {
        let hash = StableHash.fnv1a64(eventID)
        if recentEventIDs.contains(hash) {
            return false
        }
        if recentEventIDs.count < Self.recentEventIDCapacity {
            recentEventIDs.append(hash)
        } else {
            recentEventIDs[recentNext] = hash
            recentNext = (recentNext + 1) % Self.recentEventIDCapacity
        }
        return true
    }

    /// Updates every accumulator with `event`. Events older than ``lastEventAt`` are applied with their decay
    /// relative to it, so order within a decayed window does not change the result. The amounts are then rounded
    /// to the precision the store keeps them in (Float32): a state read back from the store is this state bit for
    /// bit, so a customer the daemon reloads computes the same features as the same customer `replay` keeps in
    /// memory.
    public mutating func apply(_ event: Event, layout: FeatureLayout) {
        accumulate(event, layout: layout)
        activity.record(at: event.timestamp, isPurchase: event.type == .purchase, value: event.value)
        for slot in layout.amountSlots {
            slots[slot] = Double(Float(slots[slot]))
        }
    }

    private mutating func accumulate(_ event: Event, layout: FeatureLayout) {
        let t = event.timestamp
        let isFirst = lastEventAt == .min
        let dt = isFirst ? 0 : t - lastEventAt
        if dt > 0 {
            for group in layout.decayGroups {
                let factor = exp2(-Double(dt) / group.halfLifeMs)
                for slot in group.slots {
                    slots[slot] *= factor
                }
            }
        }
        if isFirst || dt > 0 {
            lastEventAt = t
        }
        let newSession = startsSession(event, isFirst: isFirst, gapMs: dt)
        if newSession {
            sessionHasCart = false
            sessionHasPurchase = false
        }
        @inline(__always) func weight(_ halfLifeMs: Double?) -> Double {
            guard let halfLifeMs, dt < 0 else { return 1 }
            return exp2(Double(dt) / halfLifeMs)
        }
        for step in layout.steps {
            switch step {
            case .count(let slot, let types, let h):
                if types.contains(event.type) {
                    slots[slot] += weight(h)
                }
            case .sum(let slot, let property, let types, let h):
                if types.contains(event.type), let x = event.number(property) {
                    slots[slot] += x * weight(h)
                }
            case .sessions(let slot, let h):
                if newSession {
                    slots[slot] += weight(h)
                }
            case .daysSince(let slot, let types, _), .lapsed(let slot, let types, _):
                if types.contains(event.type) {
                    slots[slot] = max(slots[slot], Double(t))
                }
            case .ratio:
                break
            case .cartAbandonment(let slot):
                if event.type == .addToCart, !sessionHasCart {
                    slots[slot] += 1
                    slots[slot + 1] += 1
                } else if event.type == .purchase, sessionHasCart, !sessionHasPurchase {
                    slots[slot + 1] -= 1
                }
            case .distinct(let slot, let property, let limit):
                if let text = event.string(property) {
                    // 32-bit hashes are exact in a Double; 0 marks an empty slot.
                    let hash = Double(UInt32(truncatingIfNeeded: StableHash.fnv1a64(text)) | 1)
                    for i in slot..<(slot + limit) {
                        if slots[i] == hash { break }
                        if slots[i] == 0 {
                            slots[i] = hash
                            break
                        }
                    }
                }
            case .share(let slot, let property, let valueHash):
                if let text = event.string(property) {
                    slots[slot + 1] += 1
                    if StableHash.fnv1a64(text) == valueHash {
                        slots[slot] += 1
                    }
                }
            }
        }
        if event.type == .addToCart {
            sessionHasCart = true
        } else if event.type == .purchase, sessionHasCart {
            // Only a purchase after the cart rescues it: buying first and then leaving a cart is abandonment.
            sessionHasPurchase = true
        }
    }

    private mutating func startsSession(_ event: Event, isFirst: Bool, gapMs: Int64) -> Bool {
        if let sessionID = event.sessionID {
            let key = StableHash.fnv1a64(sessionID) | 1
            defer { sessionKey = key }
            return key != sessionKey
        }
        if isFirst || event.type == .sessionStart || gapMs > Self.sessionGapMs {
            sessionKey = 0
            return true
        }
        return false
    }

    /// Writes the feature values in user units, as of `watermark` (epoch ms), into `output` (one per feature).
    public func features(at watermark: Int64, layout: FeatureLayout, into output: inout [Double]) {
        if output.count != layout.dimensions {
            output = [Double](repeating: 0, count: layout.dimensions)
        }
        // A watermark that never moved (.min: a store restored before any event) ages nobody, and cannot overflow.
        let age = lastEventAt == .min || watermark == .min ? 0 : Double(max(0, watermark - lastEventAt))
        for (index, step) in layout.steps.enumerated() {
            output[index] = value(of: step, at: watermark, age: age) { output[$0] }
        }
    }

    /// One feature step's value in user units as of `watermark` (`age`: milliseconds since the last event);
    /// `earlier` gives an earlier feature's value (for ratios), however the caller has it. ``features(at:layout:into:)`` and the
    /// audience timers' single-feature probes share it, so a feature is computed one way only.
    @inline(__always)
    func value(
        of step: FeatureLayout.Step, at watermark: Int64, age: Double, earlier: (Int) -> Double
    ) -> Double {
        switch step {
        case .count(let slot, _, let h), .sum(let slot, _, _, let h), .sessions(let slot, let h):
            return h.map { slots[slot] * exp2(-age / $0) } ?? slots[slot]
        case .daysSince(let slot, _, let cap):
            let last = slots[slot]
            return last == -.infinity ? cap : min(cap, max(0, (Double(watermark) - last) / 86_400_000))
        case .lapsed(let slot, _, let after):
            return Double(watermark) - slots[slot] >= after ? 1 : 0
        case .ratio(let numerator, let denominator):
            let d = earlier(denominator)
            return d > 1e-9 ? earlier(numerator) / d : 0
        case .cartAbandonment(let slot):
            return slots[slot] > 0 ? max(0, slots[slot + 1]) / slots[slot] : 0
        case .distinct(let slot, _, let limit):
            var n = 0
            for i in slot..<(slot + limit) where slots[i] != 0 {
                n += 1
            }
            return Double(n)
        case .share(let slot, _, _):
            return slots[slot + 1] > 0 ? slots[slot] / slots[slot + 1] : 0
        }
    }
}

extension Event {
    @inline(__always)
    func number(_ property: NumericProperty) -> Double? {
        switch property {
        case .value: value
        case .quantity: quantity
        }
    }

    @inline(__always)
    func string(_ property: StringProperty) -> String? {
        switch property {
        case .category: category
        case .productID: productID
        case .device: device
        case .channel: channel
        case .country: country
        }
    }
}
