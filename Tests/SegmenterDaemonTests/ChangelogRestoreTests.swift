import SegmenterKafka
import SegmenterStore
import Testing

@testable import SegmenterDaemon

@Suite("changelog records and restore")
struct ChangelogRestoreTests {
    private let place = TopicPartition(topic: "segmenter-events-changelog", partition: 3)

    private func customer(_ id: String, count: Int64, seq: Int64 = 1) -> StoredCustomer {
        StoredCustomer(
            customerID: id, partition: 3, state: [1, 2, UInt8(count)], segmentID: 2, segmentSince: 10,
            transitionSeq: seq, eventCount: count, lastEventAt: 1_000 + count, timerDueAt: nil, audiences: [9])
    }

    private func message(_ row: OutboxMessage, at offset: Int64) -> KafkaMessage {
        KafkaMessage(
            topic: place.topic, partition: 3, offset: offset, key: row.key, value: row.payload,
            headers: row.headers.map { KafkaHeader(key: $0.0, value: $0.1) })
    }

    private func marker(_ next: Int64, _ writer: String) -> OutboxMessage {
        Changelog.marker(.init(nextOffset: next, writer: writer), partition: 3, serial: 1, topic: place.topic, createdAt: 0)
    }

    private func record(_ c: StoredCustomer, batch: Int64) -> OutboxMessage {
        Changelog.record(c, batchOffset: batch, serial: 1, topic: place.topic, createdAt: 0)
    }

    @Test("a stored customer survives the changelog encoding field for field")
    func roundTrip() {
        let original = customer("c-1", count: 7, seq: 4)
        #expect(Changelog.decode(Changelog.encode(original), customerID: "c-1") == original)
        var bare = original
        bare.segmentID = nil
        bare.segmentSince = nil
        bare.audiences = nil
        bare.timerDueAt = 55
        #expect(Changelog.decode(Changelog.encode(bare), customerID: "c-1") == bare)
        #expect(Changelog.decode(Array(Changelog.encode(original).dropLast()), customerID: "c-1") == nil)
    }

    @Test("a restore keeps the latest value per key and resumes at the last marker")
    func latestWins() {
        let rows = [
            record(customer("a", count: 1), batch: 10), record(customer("b", count: 1), batch: 10), marker(10, "x"),
            record(customer("a", count: 2), batch: 20), marker(20, "x"),
        ]
        var restore = ChangelogRestore(partition: place, from: 0, end: Int64(rows.count))
        for (offset, row) in rows.enumerated() { restore.add(message(row, at: Int64(offset))) }
        #expect(restore.isComplete)
        let result = restore.result()
        #expect(result.nextOffset == 20)
        #expect(result.customers.map(\.eventCount) == [2, 1])
        #expect(result.unsettled.isEmpty)
    }

    @Test("records after the last marker are an unfinished batch: left out, earlier values stand, keys to settle")
    func unfinishedBatch() {
        let rows = [
            record(customer("a", count: 1), batch: 10), marker(10, "x"),
            record(customer("a", count: 5), batch: 30), record(customer("new", count: 1), batch: 30),
        ]
        var restore = ChangelogRestore(partition: place, from: 0, end: Int64(rows.count))
        for (offset, row) in rows.enumerated() { restore.add(message(row, at: Int64(offset))) }
        let result = restore.result()
        #expect(result.nextOffset == 10)
        #expect(result.customers.map(\.customerID) == ["a"])
        #expect(result.customers.first?.eventCount == 1, "the unfinished batch's value is not taken")
        #expect(result.unsettled == ["a", "new"])
    }

    @Test("a tombstone removes a customer, and a stale lower marker does not move the resume offset back")
    func tombstonesAndStaleMarkers() {
        var tombstone = record(customer("b", count: 1), batch: 20)
        tombstone.payload = []
        let rows = [
            record(customer("a", count: 1), batch: 10), record(customer("b", count: 1), batch: 10), marker(10, "x"),
            tombstone, marker(20, "y"), marker(15, "x"),
        ]
        var restore = ChangelogRestore(partition: place, from: 0, end: Int64(rows.count))
        for (offset, row) in rows.enumerated() { restore.add(message(row, at: Int64(offset))) }
        let result = restore.result()
        #expect(result.customers.map(\.customerID) == ["a"])
        #expect(result.nextOffset == 20)
        #expect(restore.marker?.writer == "y")
    }

    @Test("a changelog without a marker restores nothing")
    func noMarker() {
        var restore = ChangelogRestore(partition: place, from: 0, end: 1)
        restore.add(message(record(customer("a", count: 1), batch: 10), at: 0))
        let result = restore.result()
        #expect(result.nextOffset == nil && result.customers.isEmpty)
    }
}
