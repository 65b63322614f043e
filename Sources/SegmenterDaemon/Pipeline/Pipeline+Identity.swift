import SegmenterCore
import SegmenterStore

/// Identity merges in the daemon (issue 18): the engine decides (`SegmentationEngine+Identity`); the pipeline sends
/// the engine's ``IdentityRecord``s through the outbox to the input topic the message came from, keyed by the id
/// whose owner must apply them, and applies the records that come back like events — their offsets commit with their
/// effects, so each is applied exactly once. The identity map lives in memory and is written with every batch.
extension Pipeline {
    static func loadIdentities(_ store: StateStore) throws -> IdentityMap {
        var links: [String: IdentityMap.Link] = [:]
        for row in try store.identityLinks() {
            links[row.anonymousID] = .init(
                knownID: row.knownID, state: IdentityMap.State(rawValue: row.state) ?? .requested,
                linkedAt: row.linkedAt)
        }
        return IdentityMap(links: links)
    }

    /// Applies a record the engine sent itself through the input topic.
    func apply(_ record: IdentityRecord, _ message: StagedInput.Message) throws {
        let native = EventDecoder(format: .native)
        try engine.apply(record, partition: message.partition, in: &customers, identities: &identities) { line in
            try? native.decode(Array(line.utf8)).get()
        }
        takeChanges(trigger: nil)
        takeIdentityRecords(after: message)
    }

    /// Queues the records the engine produced while applying `message`, with ids derived from its coordinates (a
    /// message applied again after a crash queues the same rows, which the outbox ignores).
    func takeIdentityRecords(after message: StagedInput.Message) {
        var n = 0
        engine.takeIdentityRecords { record in
            n += 1
            entries.append(.message(OutboxMessage(
                eventID: "identity:\(message.topic)/\(message.partition)/\(message.offset)/\(n)",
                customerID: record.key, partition: message.partition, topic: message.topic,
                key: Array(record.key.utf8), payload: record.encoded(), createdAt: Self.wallClock())))
        }
    }

    func takeIdentityLinks(into batch: inout StoreBatch) {
        let (set, evicted) = identities.takeWrites()
        batch.identityLinks = set.map {
            IdentityLinkRow(
                anonymousID: $0.0, knownID: $0.1.knownID, state: $0.1.state.rawValue, linkedAt: $0.1.linkedAt)
        }
        batch.evictedIdentityLinks = evicted
    }
}
