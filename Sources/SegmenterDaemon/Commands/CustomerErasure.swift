import Foundation
import SegmenterCore
import SegmenterStore

/// `segmenter customers erase` on a stopped daemon's data directory (issue 18): the same engine step the running
/// daemon takes (``SegmentationEngine/erase(_:in:)``), committed in one transaction with the last changes in the
/// outbox, which the daemon publishes when it next starts.
public enum CustomerErasure {
    /// Erases `ids` directly, or returns nil when a running daemon holds the directory (then the request must go
    /// through its HTTP API).
    public static func runOffline(
        _ ids: [String], dataDirectory: String, configuration: SegmenterConfiguration
    ) throws -> String? {
        let path = DataDirectory.databasePath(in: dataDirectory)
        guard FileManager.default.fileExists(atPath: path) else {
            throw SegmenterError(
                .notFound, "there is no store at \(path): check --data-dir (the daemon creates it on start)")
        }
        guard let probe = try DataDirectoryLock(dataDirectory: dataDirectory) else { return nil }
        probe.release()
        let directory = try DataDirectory(
            dataDirectory, options: StoreOptions(transitionHistory: configuration.store.transitionHistory))
        defer { try? directory.close() }
        var engine = try directory.loadEngine(configuration: configuration)
        var customers = CustomerWorkingSet(
            store: directory.store, layout: engine.segmentation.layout, capacity: max(100, 2 * ids.count))
        var erased: [String] = []
        var unknown: [String] = []
        for id in ids {
            if try engine.erase(id, in: &customers) { erased.append(id) } else { unknown.append(id) }
        }
        var batch = StoreBatch()
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        engine.takeChanges { change in
            batch.outbox.append(.segmentChange(
                change, topic: configuration.kafka.changesTopic,
                partition: customers.partition(of: change.customerID) ?? 0, createdAt: now))
        }
        engine.takeAudienceChanges { change in
            batch.outbox.append(.audienceChange(
                change, topic: configuration.kafka.audiencesTopic,
                partition: customers.partition(of: change.customerID) ?? 0, createdAt: now))
        }
        // After the changes: draining forgets the partitions of the removed customers.
        customers.drainChanges(into: &batch)
        batch.erasedCustomers = ids
        if configuration.privacy.suppressErased {
            // As in the daemon: the anonymous ids merged into an erased customer are suppressed with them.
            let erasing = Set(ids)
            let merged = try directory.store.identityLinks().filter { erasing.contains($0.knownID) }.map(\.anonymousID)
            batch.suppressedCustomers = ids + merged.sorted()
        }
        let segmentation = engine.segmentation
        batch.model = StoredModel(
            version: segmentation.version, savedAt: now, blob: try segmentation.snapshot().encoded())
        batch.metadata[DataDirectory.engineProgressKey] = DataDirectory.encode(engine.progress)
        try directory.store.commit(batch)
        return try answer(erased: erased, unknown: unknown, suppressing: configuration.privacy.suppressErased)
    }

    /// The sentence an erasure answers with; an erasure of ids nobody knows (and nothing to suppress) is not found.
    static func answer(erased: [String], unknown: [String], suppressing: Bool) throws -> String {
        guard !erased.isEmpty || suppressing else {
            throw SegmenterError(
                .notFound, "no customer \(unknown.joined(separator: ", ")) is known: nothing is kept about them")
        }
        var parts: [String] = []
        if !erased.isEmpty { parts.append("erased \(erased.joined(separator: ", "))") }
        if !unknown.isEmpty { parts.append("not known: \(unknown.joined(separator: ", "))") }
        if suppressing { parts.append("their later events are suppressed") }
        return parts.joined(separator: "; ")
    }
}

extension OutboxMessage {
    /// A segment change as an outbox row (key = customer id, id = the change's `<customer_id>:<seq>`).
    static func segmentChange(_ change: SegmentChange, topic: String, partition: Int32, createdAt: Int64)
        -> OutboxMessage
    {
        var payload: [UInt8] = []
        change.appendJSONLine(emittedAt: createdAt, to: &payload)
        return OutboxMessage(
            eventID: change.eventID, customerID: change.customerID, partition: partition, topic: topic,
            key: Array(change.customerID.utf8), payload: payload, headers: [], createdAt: createdAt)
    }
}
