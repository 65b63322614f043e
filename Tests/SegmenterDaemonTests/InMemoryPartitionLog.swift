import Foundation
import SegmenterKafka
import SegmenterStore

@testable import SegmenterDaemon

/// A topic in memory, read as ``KafkaPartitionReader`` reads one: watermarks, an assignment with starting offsets,
/// and a fetch of what follows. Outbox rows are appended as the producer would write them, so what the pipeline
/// writes can be read back by a restore without a broker.
final class InMemoryPartitionLog: PartitionLog {
    private var partitions: [TopicPartition: [KafkaMessage]] = [:]
    /// The first offset still kept per partition (what compaction or retention left).
    private var low: [TopicPartition: Int64] = [:]
    private var positions: [TopicPartition: Int64] = [:]
    /// When set, every read throws it (the brokers are away).
    var failure: KafkaError?
    private(set) var closed = false

    func append(_ row: OutboxMessage) {
        let place = TopicPartition(topic: row.topic, partition: row.partition)
        let offset = Int64(partitions[place, default: []].count) + (low[place] ?? 0)
        partitions[place, default: []].append(KafkaMessage(
            topic: row.topic, partition: row.partition, offset: offset, key: row.key, value: row.payload,
            headers: row.headers.map { KafkaHeader(key: $0.0, value: $0.1) }))
    }

    func append(_ rows: [OutboxMessage]) {
        for row in rows { append(row) }
    }

    /// Forgets everything before `offset`, as retention would.
    func truncate(_ place: TopicPartition, before offset: Int64) {
        let first = low[place] ?? 0
        partitions[place]?.removeFirst(Int(max(0, offset - first)))
        low[place] = offset
    }

    var assigned: [TopicPartition: Int64] { positions }

    func watermarks(_ partition: TopicPartition, timeout: Duration) throws -> (low: Int64, high: Int64) {
        if let failure { throw failure }
        let first = low[partition] ?? 0
        return (first, first + Int64(partitions[partition, default: []].count))
    }

    func assign(_ starts: [TopicPartition: Int64]) throws {
        if let failure { throw failure }
        positions = starts
    }

    func fetch(max: Int, timeout: Duration, _ body: (KafkaMessage) throws -> Void) throws {
        if let failure { throw failure }
        var visited = 0
        for place in positions.keys.sorted(by: { $0.partition < $1.partition }) {
            let first = low[place] ?? 0
            let messages = partitions[place, default: []]
            while visited < max, let position = positions[place], position - first < Int64(messages.count) {
                try body(messages[Int(Swift.max(0, position - first))])
                positions[place] = Swift.max(position, first) + 1
                visited += 1
            }
        }
    }

    func searchBack<T>(
        _ partition: TopicPartition, window: Int64, timeout: Duration, _ pick: ([KafkaMessage]) -> T?
    ) throws -> (found: T?, end: Int64) {
        let (_, high) = try watermarks(partition, timeout: timeout)
        return (pick(partitions[partition, default: []]), high)
    }

    func close() {
        closed = true
    }
}
