import Logging
import SegmenterCore
import SegmenterKafka
import SegmenterStore

/// The pipeline's part that keeps the changelog topic (``Changelog``) and restores partitions from it: it writes
/// each batch's changed customers and a marker per moved partition as outbox rows, decides on every assignment
/// whether the local store is the newest state of a partition or the changelog is, and reads a partition back
/// while the others keep flowing.
///
/// A partition is restored when its changelog ends with another instance's marker, or with one newer than the
/// offset stored here; otherwise the local store is current and nothing is read but the changelog's tail.
final class ChangelogSync {
    let topic: String
    let inputTopic: String
    /// This data directory's id, written into every marker.
    let instanceID: String
    private let reader: any PartitionLog
    private let logger: Logger
    /// Numbers this instance's batches for their outbox ids (stored with each batch, so it rolls back with it).
    var serial: Int64
    /// Partitions being read back, by input partition.
    private(set) var restores: [Int32: ChangelogRestore] = [:]
    static let serialKey = "changelog_serial"
    static let instanceKey = "instance_id"
    static let readTimeout = Duration.seconds(10)

    init(topic: String, inputTopic: String, instanceID: String, serial: Int64, reader: any PartitionLog,
         logger: Logger) {
        self.topic = topic
        self.inputTopic = inputTopic
        self.instanceID = instanceID
        self.serial = serial
        self.reader = reader
        self.logger = logger
    }

    /// At shutdown, before the brokers may go: the reader leaves the cluster.
    func close() {
        reader.close()
    }

    var isRestoring: Bool { !restores.isEmpty }

    func isRestoring(_ partition: Int32) -> Bool { restores[partition] != nil }

    var remaining: [TopicPartition: Int64] {
        restores.reduce(into: [:]) { $0[TopicPartition(topic: inputTopic, partition: $1.key)] = $1.value.remaining }
    }

    // MARK: writing

    /// The changelog rows of a batch: each changed customer with its partition's batch offset, then a marker per
    /// partition whose offset moved. `gone` are customers erased or merged away (id → partition): a tombstone each.
    /// `next` gives a partition's next input offset as of this batch.
    func rows(
        for customers: [StoredCustomer], gone: [String: Int32] = [:], moved: [TopicPartitionKey: Int64],
        next: (Int32) -> Int64?, createdAt: Int64
    ) -> [OutboxMessage] {
        serial += 1
        var rows: [OutboxMessage] = []
        rows.reserveCapacity(customers.count + moved.count)
        var touched: Set<Int32> = []
        for customer in customers {
            let offset = next(customer.partition) ?? 0
            rows.append(Changelog.record(
                customer, batchOffset: offset, serial: serial, topic: topic, createdAt: createdAt))
            touched.insert(customer.partition)
        }
        for (id, partition) in gone.sorted(by: { $0.key.precedesInByteOrder($1.key) }) {
            rows.append(tombstone(id, partition: partition, batchOffset: next(partition) ?? 0, createdAt: createdAt))
            touched.insert(partition)
        }
        for key in moved.keys where key.topic == inputTopic { touched.insert(key.partition) }
        for partition in touched.sorted() {
            guard let offset = next(partition) else { continue }
            rows.append(Changelog.marker(
                .init(nextOffset: offset, writer: instanceID), partition: partition, serial: serial, topic: topic,
                createdAt: createdAt))
        }
        return rows
    }

    /// The rows that settle a finished restore: the standing value (or a tombstone) of every key an unfinished
    /// batch had written, then this instance's marker at the restored offset.
    func settlingRows(
        partition: Int32, unsettled: [String], standing: [String: StoredCustomer], nextOffset: Int64, createdAt: Int64
    ) -> [OutboxMessage] {
        serial += 1
        var rows: [OutboxMessage] = unsettled.map { id in
            if let customer = standing[id] {
                return Changelog.record(
                    customer, batchOffset: nextOffset, serial: serial, topic: topic, createdAt: createdAt)
            }
            return tombstone(id, partition: partition, batchOffset: nextOffset, createdAt: createdAt)
        }
        rows.append(Changelog.marker(
            .init(nextOffset: nextOffset, writer: instanceID), partition: partition, serial: serial, topic: topic,
            createdAt: createdAt))
        return rows
    }

    private func tombstone(_ id: String, partition: Int32, batchOffset: Int64, createdAt: Int64) -> OutboxMessage {
        OutboxMessage(
            eventID: "changelog:\(serial):\(id)", customerID: id, partition: partition, topic: topic,
            key: Array(id.utf8), payload: [],
            headers: [(Changelog.offsetHeader, Array(String(batchOffset).utf8))], createdAt: createdAt)
    }

    // MARK: reading

    /// The last marker of a changelog partition, found by reading back from its end (nil: the partition has none).
    func tailMarker(_ partition: Int32) throws -> Changelog.Marker? {
        let place = TopicPartition(topic: topic, partition: partition)
        return try reader.searchBack(place, window: 64, timeout: Self.readTimeout) { messages in
            var last: Changelog.Marker?
            for message in messages where message.key == Changelog.markerKey {
                if let marker = Changelog.decodeMarker(message.value),
                   last.map({ marker.nextOffset >= $0.nextOffset }) ?? true
                {
                    last = marker
                }
            }
            return last
        }.found
    }

    /// Whether a newly assigned partition must be restored, and where it then resumes. `stored` is the partition's
    /// next offset in the local store.
    func needsRestore(_ partition: Int32, stored: Int64?) throws -> Changelog.Marker? {
        guard let marker = try tailMarker(partition) else { return nil }
        if marker.writer == instanceID, let stored, marker.nextOffset <= stored { return nil }
        return marker
    }

    /// Starts reading these partitions back from their first kept offset.
    func beginRestores(_ partitions: [Int32]) throws {
        for partition in partitions {
            let place = TopicPartition(topic: topic, partition: partition)
            let (low, high) = try reader.watermarks(place, timeout: Self.readTimeout)
            restores[partition] = ChangelogRestore(partition: place, from: max(0, low), end: high)
        }
        try assignReader()
    }

    /// Stops restoring partitions that were taken away meanwhile.
    func cancelRestores(_ partitions: [Int32]) throws {
        var changed = false
        for partition in partitions where restores.removeValue(forKey: partition) != nil { changed = true }
        if changed { try assignReader() }
    }

    /// Reads what is already fetched (up to `max` records) into the restores; returns the ones now complete.
    func step(max: Int) throws -> [ChangelogRestore] {
        guard !restores.isEmpty else { return [] }
        try reader.fetch(max: max, timeout: .milliseconds(5)) { message in
            restores[message.partition]?.add(message)
        }
        let done = restores.values.filter(\.isComplete)
        guard !done.isEmpty else { return [] }
        for restore in done { restores.removeValue(forKey: restore.partition.partition) }
        try assignReader()
        return done.sorted { $0.partition.partition < $1.partition.partition }
    }

    private func assignReader() throws {
        var starts: [TopicPartition: Int64] = [:]
        for (_, restore) in restores where !restore.isComplete { starts[restore.partition] = restore.position }
        try reader.assign(starts)
    }
}
