import SegmenterKafka

/// A topic the pipeline reads by partition and offset, outside the consumer group: the changelog it restores
/// from and the model topic it follows. ``KafkaPartitionReader`` is the real one; tests use an in-memory log, so
/// restores and model leadership run without a broker.
///
/// Threading: used from the pipeline thread only.
protocol PartitionLog: AnyObject {
    /// The partition's first kept offset and the next offset to be written.
    func watermarks(_ partition: TopicPartition, timeout: Duration) throws -> (low: Int64, high: Int64)
    /// Replaces what ``fetch(max:timeout:_:)`` reads with these partitions, each from its offset.
    func assign(_ starts: [TopicPartition: Int64]) throws
    /// Visits up to `max` messages of the assigned partitions (copied: these topics are read rarely, or once),
    /// waiting up to `timeout` for the first.
    func fetch(max: Int, timeout: Duration, _ body: (KafkaMessage) throws -> Void) throws
    /// Reads `partition` back from its end, in growing windows starting at `window` messages, until `pick` finds
    /// what it looks for; returns it (nil: nowhere) and the partition's end when the search began.
    func searchBack<T>(
        _ partition: TopicPartition, window: Int64, timeout: Duration, _ pick: ([KafkaMessage]) -> T?
    ) throws -> (found: T?, end: Int64)
    /// Leaves the cluster (at shutdown, before the brokers may go).
    func close()
}

/// The reader's own methods are the protocol's, but for `fetch`, which copies what `poll` lends.
extension KafkaPartitionReader: PartitionLog {
    func fetch(max: Int, timeout: Duration, _ body: (KafkaMessage) throws -> Void) throws {
        try poll(max: max, timeout: timeout) { try body(KafkaMessage($0)) }
    }
}
