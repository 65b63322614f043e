import Foundation

/// Identity merges (issue 18): the state of an id tied to this customer (an anonymous browser that logged in) is
/// folded into this one, as if both had been one customer all along, as far as O(1) accumulators allow.
extension CustomerState {
    /// Folds `other` into this state. Both are aligned to the later of their last events: decayed amounts are aged
    /// to it, then added; counts, sums, sessions, carts and mix counters are added; "last time of" slots keep the
    /// later time; distinct-value sets are united (up to their limit); the current session is the one of the later
    /// last event; recent event ids are united, newest kept. Amounts are rounded to their stored precision, as
    /// after ``apply(_:layout:)``;
    /// activity summaries are folded by ``ActivitySummary/merge(_:)``.
    public mutating func merge(_ other: CustomerState, layout: FeatureLayout) {
        guard other.lastEventAt != .min else { return }
        guard lastEventAt != .min else {
            self = other
            return
        }
        let time = max(lastEventAt, other.lastEventAt)
        var incoming = other.slots
        for group in layout.decayGroups {
            let mine = exp2(-Double(time - lastEventAt) / group.halfLifeMs)
            let theirs = exp2(-Double(time - other.lastEventAt) / group.halfLifeMs)
            for slot in group.slots {
                slots[slot] *= mine
                incoming[slot] *= theirs
            }
        }
        for step in layout.steps {
            switch step {
            case .count(let slot, _, _), .sum(let slot, _, _, _), .sessions(let slot, _):
                slots[slot] += incoming[slot]
            case .daysSince(let slot, _, _), .lapsed(let slot, _, _):
                slots[slot] = max(slots[slot], incoming[slot])
            case .ratio:
                break
            case .cartAbandonment(let slot), .share(let slot, _, _):
                slots[slot] += incoming[slot]
                slots[slot + 1] += incoming[slot + 1]
            case .distinct(let slot, _, let limit):
                for hash in incoming[slot..<(slot + limit)] where hash != 0 {
                    for i in slot..<(slot + limit) {
                        if slots[i] == hash { break }
                        if slots[i] == 0 {
                            slots[i] = hash
                            break
                        }
                    }
                }
            }
        }
        for slot in layout.amountSlots {
            slots[slot] = Double(Float(slots[slot]))
        }
        let recent = other.lastEventAt > lastEventAt
            ? orderedRecentEventIDs + other.orderedRecentEventIDs
            : other.orderedRecentEventIDs + orderedRecentEventIDs
        var seen: Set<UInt64> = []
        let united = recent.reversed().filter { seen.insert($0).inserted }.prefix(Self.recentEventIDCapacity)
        recentEventIDs = Array(united.reversed())
        recentNext = 0
        if other.lastEventAt > lastEventAt {
            sessionKey = other.sessionKey
            sessionHasCart = other.sessionHasCart
            sessionHasPurchase = other.sessionHasPurchase
        }
        activity.merge(other.activity)
        lastEventAt = time
    }

    /// The remembered event ids, oldest first.
    private var orderedRecentEventIDs: [UInt64] {
        guard recentEventIDs.count == Self.recentEventIDCapacity else { return recentEventIDs }
        return Array(recentEventIDs[recentNext...] + recentEventIDs[..<recentNext])
    }
}
