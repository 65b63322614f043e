import Foundation
import Logging
import SegmenterCore
import SegmenterStore

/// Brings stored customers up to the configured audiences before the daemon consumes (issue 16). When audiences
/// were added or changed since the data directory last saw them, every stored customer is re-evaluated, page by
/// page, each page committed in one transaction with its Audience Entered / Exited outbox rows (cause `backfill`)
/// and the position reached — so a `kill -9` resumes where it stopped and re-evaluating a committed customer finds
/// nothing new. Then it counts each audience's members for the status board.
struct AudienceBackfill {
    static let fingerprintKey = "audiences_fingerprint"
    static let cursorKey = "audiences_backfill_cursor"
    static let pageSize = 1_000

    let store: StateStore
    let topic: String
    let status: PipelineStatusBoard
    let logger: Logger

    /// What the stored memberships were computed for: every audience's id and condition, and every trait.
    static func fingerprint(_ rules: AudienceRules) -> String {
        let text = (rules.audiences.map(\.fingerprint) + rules.traits.map(\.description)).joined(separator: "\n")
        return String(StableHash.fnv1a64(text), radix: 16)
    }

    func run(engine: inout SegmentationEngine, customers: inout CustomerWorkingSet) throws {
        let rules = engine.audiences
        let target = Self.fingerprint(rules)
        let stored = try store.metadata(Self.fingerprintKey)
        if stored != target {
            if rules.audiences.isEmpty {
                // Nothing to evaluate: stored memberships of removed audiences stay, with their sequence numbers.
                try store.setMetadata(Self.fingerprintKey, target)
            } else {
                try backfill(target: target, engine: &engine, customers: &customers)
            }
        }
        try countMembers(rules)
    }

    private func backfill(
        target: String, engine: inout SegmentationEngine, customers: inout CustomerWorkingSet
    ) throws {
        // "<target>\n<ordinal> <customer id>"; a cursor of another target, or of the id order walks had before
        // ordinals, starts the back-fill over.
        let resume = try store.metadata(Self.cursorKey).flatMap { entry -> CustomerWalkKey? in
            let parts = entry.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0] == target else { return nil }
            let key = parts[1].split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
            guard key.count == 2, let ordinal = Int64(key[0]) else { return nil }
            return CustomerWalkKey(ordinal: ordinal, customerID: String(key[1]))
        }
        let total = try store.customerCount()
        logger.info("back-filling audiences over the stored customers", metadata: [
            "audiences.count": "\(engine.audiences.audiences.count)", "customers.count": "\(total)",
            "audiences.resume_after": "\(resume?.customerID ?? "-")",
        ])
        status.update {
            $0.audiences.backfillRunning = true
            $0.audiences.backfillTotal = total
        }
        var cursor = resume
        var visited: Int64 = 0
        var changes: Int64 = 0
        repeat {
            let next = try engine.backfillAudiences(in: &customers, after: cursor, limit: Self.pageSize)
            var batch = StoreBatch()
            let now = Pipeline.wallClock()
            engine.takeAudienceChanges { change in
                batch.outbox.append(.audienceChange(
                    change, topic: topic, partition: customers.peek(change.customerID)?.partition ?? 0,
                    createdAt: now))
                changes += 1
            }
            engine.takeChanges { _ in }
            customers.drainChanges(into: &batch)
            if let next {
                batch.metadata[Self.cursorKey] = target + "\n\(next.ordinal) " + next.customerID
            } else {
                batch.metadata[Self.cursorKey] = ""
                batch.metadata[Self.fingerprintKey] = target
            }
            try store.commit(batch)
            customers.committed()
            visited += Int64(Self.pageSize)
            let shown = min(visited, total)
            status.update { $0.audiences.backfillVisited = shown }
            cursor = next
        } while cursor != nil
        status.update {
            $0.audiences.backfillRunning = false
            $0.audiences.backfillVisited = total
        }
        logger.info("audience back-fill done", metadata: ["audiences.changes": "\(changes)"])
    }

    private func countMembers(_ rules: AudienceRules) throws {
        guard !rules.audiences.isEmpty else { return }
        var sizes = Dictionary(uniqueKeysWithValues: rules.audiences.map { ($0.id, Int64(0)) })
        var after: String?
        while true {
            let page = try store.customers(afterID: after, limit: Self.pageSize)
            for customer in page where customer.audiences != nil {
                for id in try CustomerAudiences(encoded: customer.audiences).audienceIDs where sizes[id] != nil {
                    sizes[id]! += 1
                }
            }
            guard page.count == Self.pageSize else { break }
            after = page.last?.customerID
        }
        status.update { $0.audiences.sizes = sizes }
    }
}

extension OutboxMessage {
    /// An Audience Entered / Exited event as an outbox row (key = customer id). The outbox id is prefixed so that
    /// it can never collide with a segment change's `<customer_id>:<seq>`.
    static func audienceChange(_ change: AudienceChange, topic: String, partition: Int32, createdAt: Int64)
        -> OutboxMessage
    {
        OutboxMessage(
            eventID: "audience:" + change.messageID, customerID: change.customerID, partition: partition,
            topic: topic, key: Array(change.customerID.utf8), payload: Array(change.jsonLine().utf8), headers: [],
            createdAt: createdAt)
    }
}
