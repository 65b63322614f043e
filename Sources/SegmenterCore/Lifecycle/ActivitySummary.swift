/// What the lifecycle and prediction models need to know about one customer's history, kept in O(1) per event
/// inside ``CustomerState``: when they were first and last active, on how many distinct UTC calendar days they
/// were active (any applied event) and purchased, and the value of their purchase days, with the first purchase
/// day apart (the Gamma-Gamma spend model, like `lifetimes`, averages over repeat purchase days only).
///
/// Distinct days are counted exactly for events in order and for late events within ``windowDays`` of the latest
/// day: one bit per recent day remembers whether it was already counted. A late event on an older day that is not
/// before the first day is assumed to fall on a day already counted (it cannot be told apart in O(1) space).
public struct ActivitySummary: Sendable, Hashable {
    static let dayMs: Int64 = 86_400_000
    /// How many days back from the latest day a late event is still counted exactly.
    public static let windowDays: Int64 = 64

    /// Time of the earliest applied event (epoch ms); `Int64.min` before the first.
    public internal(set) var firstActivityAt: Int64 = .min
    /// Time of the latest applied event (epoch ms); `Int64.min` before the first.
    public internal(set) var lastActivityAt: Int64 = .min
    /// Distinct UTC calendar days with any applied event.
    public internal(set) var activeDays: UInt32 = 0
    /// Bit i: active on the day `i` days before the day of ``lastActivityAt``.
    var activeDayBits: UInt64 = 0
    /// Distinct UTC calendar days with a purchase.
    public internal(set) var purchaseDays: UInt32 = 0
    /// Epoch day of the first and of the latest purchase (meaningful when ``purchaseDays`` > 0).
    public internal(set) var firstPurchaseDay: Int32 = 0
    public internal(set) var lastPurchaseDay: Int32 = 0
    /// Bit i: a purchase on (``purchaseDayBits``), a valued repeat purchase on (``valueDayBits``) the day `i` days
    /// before ``lastPurchaseDay``.
    var purchaseDayBits: UInt64 = 0
    var valueDayBits: UInt64 = 0
    /// Sum of purchase values on the first purchase day (kept at Float32 precision, as stored).
    public internal(set) var firstPurchaseDayValue: Double = 0
    /// Sum of purchase values on every later purchase day (kept at Float32 precision, as stored).
    public internal(set) var repeatPurchaseValue: Double = 0
    /// Repeat purchase days whose purchases carried a positive value.
    public internal(set) var repeatValueDays: UInt32 = 0

    public init() {}

    /// True before the first applied event.
    public var isEmpty: Bool { lastActivityAt == .min }

    /// All purchase value, first day included.
    public var totalPurchaseValue: Double { firstPurchaseDayValue + repeatPurchaseValue }

    /// Mean value of a repeat purchase day, or nil without one (the Gamma-Gamma model's `m`).
    public var averageRepeatValue: Double? {
        repeatValueDays > 0 ? repeatPurchaseValue / Double(repeatValueDays) : nil
    }

    /// Records one applied event at `time` (epoch ms). `value` is the purchase's value when it has one.
    public mutating func record(at time: Int64, isPurchase: Bool, value: Double?) {
        let day = Self.day(of: time)
        if isEmpty {
            firstActivityAt = time
            lastActivityAt = time
            activeDays = 1
            activeDayBits = 1
        } else {
            let firstDay = Self.day(of: firstActivityAt)
            var anchor = Self.day(of: lastActivityAt)
            var ignored: UInt64 = 0
            if Self.mark(day: day, anchor: &anchor, bits: &activeDayBits, alongside: &ignored) ?? (day < firstDay) {
                activeDays += 1
            }
            firstActivityAt = min(firstActivityAt, time)
            lastActivityAt = max(lastActivityAt, time)
        }
        if isPurchase {
            recordPurchase(day: day, value: max(0, value ?? 0))
        }
    }

    private mutating func recordPurchase(day: Int64, value: Double) {
        guard purchaseDays > 0 else {
            purchaseDays = 1
            firstPurchaseDay = Int32(clamping: day)
            lastPurchaseDay = firstPurchaseDay
            purchaseDayBits = 1
            firstPurchaseDayValue = Self.stored(value)
            return
        }
        var anchor = Int64(lastPurchaseDay)
        let first = Int64(firstPurchaseDay)
        if day == first {
            firstPurchaseDayValue = Self.stored(firstPurchaseDayValue + value)
            return
        }
        let isNewDay = Self.mark(day: day, anchor: &anchor, bits: &purchaseDayBits, alongside: &valueDayBits)
        lastPurchaseDay = Int32(clamping: anchor)
        if isNewDay ?? (day < first) {
            purchaseDays += 1
        }
        if day < first {
            // A late purchase before the first one: the former first day becomes a repeat day.
            if firstPurchaseDayValue > 0 {
                repeatPurchaseValue = Self.stored(repeatPurchaseValue + firstPurchaseDayValue)
                repeatValueDays += 1
                Self.set(day: first, anchor: anchor, bits: &valueDayBits)
            }
            firstPurchaseDay = Int32(clamping: day)
            firstPurchaseDayValue = Self.stored(value)
            return
        }
        guard value > 0 else { return }
        repeatPurchaseValue = Self.stored(repeatPurchaseValue + value)
        if Self.set(day: day, anchor: anchor, bits: &valueDayBits) == true {
            repeatValueDays += 1
        }
    }

    static func day(of time: Int64) -> Int64 {
        time >= 0 ? time / dayMs : -((-time + dayMs - 1) / dayMs)
    }

    /// Money is kept at the precision it is stored in, so a state read back equals the state kept in memory.
    static func stored(_ value: Double) -> Double {
        Double(Float(value))
    }

    /// Marks `day` in `bits` (anchored at `anchor`, the latest day, moved forward when `day` is later; `alongside`
    /// shifts with it). Returns whether the day was new, or nil when it is too old for the window to know.
    static func mark(day: Int64, anchor: inout Int64, bits: inout UInt64, alongside: inout UInt64) -> Bool? {
        if day > anchor {
            let shift = day - anchor
            bits = shift >= 64 ? 0 : bits << UInt64(shift)
            alongside = shift >= 64 ? 0 : alongside << UInt64(shift)
            anchor = day
        }
        return set(day: day, anchor: anchor, bits: &bits)
    }

    /// Sets `day`'s bit; returns whether it was unset before, or nil when the day is outside the window.
    @discardableResult
    static func set(day: Int64, anchor: Int64, bits: inout UInt64) -> Bool? {
        let age = anchor - day
        guard age >= 0, age < windowDays else { return nil }
        let bit: UInt64 = 1 << UInt64(age)
        defer { bits |= bit }
        return bits & bit == 0
    }
}
