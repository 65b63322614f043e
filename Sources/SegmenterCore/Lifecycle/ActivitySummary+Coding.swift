/// The stored form of an ``ActivitySummary`` (68 bytes, appended to a customer's stored state) and the fold of two
/// summaries when two ids turn out to be one customer.
extension ActivitySummary {
    static let encodedSize = 68

    func encode(into writer: inout ByteWriter) {
        writer.write(firstActivityAt)
        writer.write(lastActivityAt)
        writer.write(activeDays)
        writer.write(activeDayBits)
        writer.write(purchaseDays)
        writer.write(firstPurchaseDay)
        writer.write(lastPurchaseDay)
        writer.write(purchaseDayBits)
        writer.write(valueDayBits)
        writer.write(Float(firstPurchaseDayValue).bitPattern)
        writer.write(Float(repeatPurchaseValue).bitPattern)
        writer.write(repeatValueDays)
    }

    /// Reads what ``encode(into:)`` wrote, or nil when the bytes end early.
    init?(reading reader: inout ByteReader) {
        guard let first = reader.read(Int64.self), let last = reader.read(Int64.self),
              let active = reader.read(UInt32.self), let activeBits = reader.read(UInt64.self),
              let purchases = reader.read(UInt32.self), let firstPurchase = reader.read(Int32.self),
              let lastPurchase = reader.read(Int32.self), let purchaseBits = reader.read(UInt64.self),
              let valueBits = reader.read(UInt64.self), let firstValue = reader.read(UInt32.self),
              let repeatValue = reader.read(UInt32.self), let valueDays = reader.read(UInt32.self)
        else { return nil }
        firstActivityAt = first
        lastActivityAt = last
        activeDays = active
        activeDayBits = activeBits
        purchaseDays = purchases
        firstPurchaseDay = firstPurchase
        lastPurchaseDay = lastPurchase
        purchaseDayBits = purchaseBits
        valueDayBits = valueBits
        firstPurchaseDayValue = Double(Float(bitPattern: firstValue))
        repeatPurchaseValue = Double(Float(bitPattern: repeatValue))
        repeatValueDays = valueDays
    }

    /// What a state stored before summaries existed is taken to have been: one active day at its last event. It
    /// makes such a customer look new until their next events; nothing better can be known.
    init(lastEventAt: Int64) {
        self.init()
        guard lastEventAt != .min else { return }
        record(at: lastEventAt, isPurchase: false, value: nil)
    }

    /// Folds `other` (another id of the same customer) into this summary: first and last times widen, day sets are
    /// united exactly within the window of the later day and added beyond it, and the later first purchase day
    /// becomes a repeat purchase day.
    mutating func merge(_ other: ActivitySummary) {
        guard !other.isEmpty else { return }
        guard !isEmpty else {
            self = other
            return
        }
        let mine = Self.day(of: lastActivityAt), theirs = Self.day(of: other.lastActivityAt)
        let (activity, sharedActive) = Self.union(activeDayBits, mine, other.activeDayBits, theirs)
        activeDays = activeDays + other.activeDays - sharedActive
        activeDayBits = activity
        firstActivityAt = min(firstActivityAt, other.firstActivityAt)
        lastActivityAt = max(lastActivityAt, other.lastActivityAt)
        guard other.purchaseDays > 0 else { return }
        guard purchaseDays > 0 else {
            mergePurchases(from: other)
            return
        }
        let (later, earlier) = firstPurchaseDay > other.firstPurchaseDay ? (self, other) : (other, self)
        let mineDay = Int64(lastPurchaseDay), theirsDay = Int64(other.lastPurchaseDay)
        let (purchases, sharedPurchases) = Self.union(purchaseDayBits, mineDay, other.purchaseDayBits, theirsDay)
        let (values, sharedValues) = Self.union(valueDayBits, mineDay, other.valueDayBits, theirsDay)
        purchaseDays = purchaseDays + other.purchaseDays - sharedPurchases
        purchaseDayBits = purchases
        valueDayBits = values
        lastPurchaseDay = max(lastPurchaseDay, other.lastPurchaseDay)
        repeatPurchaseValue = Self.stored(repeatPurchaseValue + other.repeatPurchaseValue)
        repeatValueDays = repeatValueDays + other.repeatValueDays - sharedValues
        if later.firstPurchaseDay == earlier.firstPurchaseDay {
            firstPurchaseDayValue = Self.stored(later.firstPurchaseDayValue + earlier.firstPurchaseDayValue)
        } else {
            firstPurchaseDayValue = earlier.firstPurchaseDayValue
            repeatPurchaseValue = Self.stored(repeatPurchaseValue + later.firstPurchaseDayValue)
            if later.firstPurchaseDayValue > 0 {
                repeatValueDays += 1
            }
        }
        firstPurchaseDay = earlier.firstPurchaseDay
    }

    private mutating func mergePurchases(from other: ActivitySummary) {
        purchaseDays = other.purchaseDays
        firstPurchaseDay = other.firstPurchaseDay
        lastPurchaseDay = other.lastPurchaseDay
        purchaseDayBits = other.purchaseDayBits
        valueDayBits = other.valueDayBits
        firstPurchaseDayValue = other.firstPurchaseDayValue
        repeatPurchaseValue = other.repeatPurchaseValue
        repeatValueDays = other.repeatValueDays
    }

    /// Two day bitsets anchored at different days, aligned to the later anchor: their union and how many days they
    /// share (so that adding both counts counts a shared day once).
    private static func union(_ a: UInt64, _ anchorA: Int64, _ b: UInt64, _ anchorB: Int64) -> (UInt64, UInt32) {
        let anchor = max(anchorA, anchorB)
        func aligned(_ bits: UInt64, _ from: Int64) -> UInt64 {
            let shift = anchor - from
            return shift >= 64 ? 0 : bits << UInt64(shift)
        }
        let x = aligned(a, anchorA), y = aligned(b, anchorB)
        return (x | y, UInt32((x & y).nonzeroBitCount))
    }
}
