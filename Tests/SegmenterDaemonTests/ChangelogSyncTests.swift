import Logging
import SegmenterKafka
import SegmenterStore
import Testing

@testable import SegmenterDaemon

/// The changelog part on an in-memory topic: what one instance writes, another decides on and restores.
@Suite("changelog sync")
struct ChangelogSyncTests {
    private let topic = "events-changelog"
    private let log = InMemoryPartitionLog()

    private func sync(_ instance: String, serial: Int64 = 0) -> ChangelogSync {
        ChangelogSync(
            topic: topic, inputTopic: "events", instanceID: instance, serial: serial, reader: log,
            logger: Logger(label: "test"))
    }

    private func customer(_ id: String, partition: Int32, count: Int64) -> StoredCustomer {
        StoredCustomer(
            customerID: id, partition: partition, state: [UInt8(count)], segmentID: 1, segmentSince: 5,
            transitionSeq: 1, eventCount: count, lastEventAt: 100 * count)
    }

    /// Writes one batch of `writer` moving partition `partition` to `next`.
    private func writeBatch(
        _ writer: ChangelogSync, _ customers: [StoredCustomer], partition: Int32, next: Int64,
        gone: [String: Int32] = [:]
    ) {
        log.append(writer.rows(
            for: customers, gone: gone, moved: [TopicPartitionKey(topic: "events", partition: partition): next],
            next: { $0 == partition ? next : nil }, createdAt: 0))
    }

    /// Steps the restores until none is left; returns the finished ones.
    private func restoreAll(_ sync: ChangelogSync) throws -> [ChangelogRestore] {
        var done: [ChangelogRestore] = []
        while sync.isRestoring { done += try sync.step(max: 3) }
        return done
    }

    @Test("a batch writes each changed customer, a tombstone per gone id, then one marker per moved partition")
    func batchRows() {
        let writer = sync("a")
        let rows = writer.rows(
            for: [customer("c1", partition: 0, count: 1), customer("c2", partition: 1, count: 2)], gone: ["c3": 1],
            moved: [TopicPartitionKey(topic: "events", partition: 0): 10,
                    TopicPartitionKey(topic: "events", partition: 1): 20],
            next: { [0: 10, 1: 20][$0] }, createdAt: 0)
        #expect(rows.map { String(decoding: $0.key ?? [], as: UTF8.self) }
            == ["c1", "c2", "c3", "\u{0}segmenter.next_offset", "\u{0}segmenter.next_offset"])
        #expect(rows[2].payload.isEmpty)
        #expect(rows.suffix(2).map { Changelog.decodeMarker($0.payload) }
            == [.init(nextOffset: 10, writer: "a"), .init(nextOffset: 20, writer: "a")])
        #expect(rows.suffix(2).map(\.partition) == [0, 1])
        #expect(writer.serial == 1)
    }

    @Test("a partition whose changelog this instance wrote last, up to its stored offset, is not restored")
    func ownTailNeedsNoRestore() throws {
        let writer = sync("a")
        writeBatch(writer, [customer("c1", partition: 0, count: 1)], partition: 0, next: 10)
        #expect(try writer.needsRestore(0, stored: 10) == nil)
        #expect(try writer.needsRestore(0, stored: 4) == .init(nextOffset: 10, writer: "a"))
        #expect(try writer.needsRestore(1, stored: nil) == nil)
    }

    @Test("another writer's tail makes a partition restore, to the customers and offset that writer left")
    func restoresAnotherWriter() throws {
        let first = sync("a")
        writeBatch(first, [customer("c1", partition: 0, count: 1), customer("c2", partition: 0, count: 1)],
                   partition: 0, next: 5)
        writeBatch(first, [customer("c1", partition: 0, count: 3)], partition: 0, next: 9, gone: ["c2": 0])
        let second = sync("b")
        let marker = try #require(try second.needsRestore(0, stored: 20))
        #expect(marker == .init(nextOffset: 9, writer: "a"))
        try second.beginRestores([0])
        #expect(second.isRestoring(0))
        #expect(second.remaining[TopicPartition(topic: "events", partition: 0)] == Int64(6), "two batches of two records and a marker each")
        let done = try restoreAll(second)
        #expect(done.count == 1)
        let (customers, next, unsettled) = done[0].result()
        #expect(customers == [customer("c1", partition: 0, count: 3)])
        #expect(next == 9)
        #expect(unsettled.isEmpty)
        #expect(log.assigned.isEmpty)
    }

    @Test("a cancelled restore stops reading its partition and leaves the others restoring")
    func cancel() throws {
        let first = sync("a")
        writeBatch(first, [customer("c1", partition: 0, count: 1)], partition: 0, next: 2)
        writeBatch(first, [customer("c2", partition: 1, count: 1)], partition: 1, next: 3)
        let second = sync("b")
        try second.beginRestores([0, 1])
        try second.cancelRestores([0])
        #expect(!second.isRestoring(0))
        #expect(log.assigned.keys.map(\.partition) == [1])
        let done = try restoreAll(second)
        #expect(done.map(\.partition.partition) == [1])
    }

    @Test("settling rows write the standing value of each unsettled key, then the restorer's marker")
    func settling() {
        let restorer = sync("b", serial: 7)
        let standing = customer("c1", partition: 2, count: 4)
        let rows = restorer.settlingRows(
            partition: 2, unsettled: ["c1", "c9"], standing: ["c1": standing], nextOffset: 30, createdAt: 0)
        #expect(rows.count == 3)
        #expect(Changelog.decode(rows[0].payload, customerID: "c1") == standing)
        #expect(rows[1].payload.isEmpty)
        #expect(Changelog.decodeMarker(rows[2].payload) == .init(nextOffset: 30, writer: "b"))
        #expect(restorer.serial == 8)
    }

    @Test("a tail that cannot be read is an error, not a partition without a changelog")
    func unreadableTail() {
        let reader = sync("a")
        log.failure = KafkaError(code: .timeout, message: "no broker (test)")
        #expect(throws: KafkaError.self) { try reader.needsRestore(0, stored: nil) }
    }
}
