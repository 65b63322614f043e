import SegmenterKafka
import SegmenterStore

/// One input message as the pipeline sees it: a view into the source's buffers, valid during the `poll` callback.
public struct SourceMessage {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var key: UnsafeRawBufferPointer?
    public var value: UnsafeRawBufferPointer
    /// The message's Kafka timestamp (epoch ms), when it has one.
    public var timestamp: Int64?

    public init(
        topic: String, partition: Int32, offset: Int64, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer,
        timestamp: Int64?
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.timestamp = timestamp
    }
}

/// Where the pipeline's events come from: a consumer-group member with manual offsets (``KafkaConsumer``), or an
/// in-memory fake in tests. Rebalances are reported to the pipeline, as a ``KafkaRebalanceListener``, from inside
/// `poll`.
public protocol EventSource: AnyObject {
    func waitForBrokers(timeout: Duration) throws
    func subscribe(topics: [String]) throws
    /// Visits up to `max` messages, waiting up to `timeout` for the first; returns how many it visited.
    @discardableResult
    func poll(max: Int, timeout: Duration, _ body: (SourceMessage) throws -> Void) throws -> Int
    /// Commits the next offsets to read, without waiting (only so that standard lag tools see them; the store is
    /// the truth, so a commit that is lost costs nothing).
    func commit(_ offsets: [TopicPartition: Int64]) throws
    /// Brokers the source is connected to (nil until known).
    var brokerHealth: BrokerHealth? { get }
    /// Messages between each partition's `nextOffsets` and its end.
    func lag(for nextOffsets: [TopicPartition: Int64]) -> [TopicPartition: Int64]
    /// Leaves the group, giving up after `timeout` (a broker outage must not hold up a shutdown).
    func close(timeout: Duration) throws
    /// Consumes partitions held at assignment (``KafkaRebalanceListener/partitionsToHold(_:)``) again, each from the
    /// given offset.
    func resume(_ partitions: [(TopicPartition, Int64)])
}

/// Where the pipeline's outbox rows go: an idempotent producer (``KafkaProducer``) or a fake. Every produced
/// message gets exactly one delivery report, carrying its `token`.
public protocol OutboxSink: AnyObject {
    func waitForBrokers(timeout: Duration) throws
    /// `partition`: a fixed partition (the changelog's), or nil to let the partitioner choose from the key.
    func produce(
        topic: String, partition: Int32?, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader], token: UInt64
    ) throws
    func pollDeliveries(timeout: Duration) -> [DeliveryReport]
}

/// The pipeline's durable state: what it reads between commits and the one transaction per batch
/// (``StateStore``, SQLite). The reads may run on the pipeline thread while the committer's thread commits.
public protocol PipelineStore: AnyObject {
    /// Returns the outbox row id of each message of `batch.outbox` (nil: ignored as a duplicate).
    @discardableResult
    func commit(_ batch: StoreBatch) throws -> [Int64?]
    func customer(_ id: String) throws -> StoredCustomer?
    /// The stored customers among `ids`, with one query per few hundred ids.
    func customers(ids: some Sequence<String>) throws -> [StoredCustomer]
    func customers(afterID: String?, limit: Int) throws -> [StoredCustomer]
    /// The ids of ``customers(afterID:limit:)``, without reading the rows.
    func customerIDs(afterID: String?, limit: Int) throws -> [String]
    func customersDue(through time: Int64, after: (due: Int64, id: String)?, limit: Int) throws -> [StoredCustomer]
    /// Walk positions (ordinal, id) after `after`, in that order, without reading the rows.
    func customerWalk(after: (ordinal: Int64, id: String)?, limit: Int) throws -> [(ordinal: Int64, id: String)]
    /// Every customer with a sample level of at least `minimumLevel`.
    func customers(sampleLevelAtLeast minimumLevel: Int) throws -> [StoredCustomer]
    func pendingOutbox(limit: Int, afterID: Int64?) throws -> [OutboxRow]
    func outboxRows(ids: [Int64]) throws -> [OutboxRow]
    func outboxCount() throws -> Int64
    func offsets() throws -> [TopicPartitionKey: Int64]
    func metadata(_ key: String) throws -> String?
    func checkpoint() throws
}

/// The daemon's ``EventSource``: a ``KafkaConsumer``.
final class KafkaEventSource: EventSource {
    private let consumer: KafkaConsumer

    init(_ consumer: KafkaConsumer) {
        self.consumer = consumer
    }

    var brokerHealth: BrokerHealth? { consumer.brokerHealth }

    func waitForBrokers(timeout: Duration) throws {
        try consumer.waitForBrokers(timeout: timeout)
    }

    func subscribe(topics: [String]) throws {
        try consumer.subscribe(topics: topics)
    }

    @discardableResult
    func poll(max: Int, timeout: Duration, _ body: (SourceMessage) throws -> Void) throws -> Int {
        try consumer.poll(max: max, timeout: timeout) { (view: KafkaMessageView) in
            try body(SourceMessage(
                topic: view.topic, partition: view.partition, offset: view.offset, key: view.key, value: view.value,
                timestamp: view.timestamp))
        }
    }

    func commit(_ offsets: [TopicPartition: Int64]) throws {
        try consumer.commit(offsets, async: true)
    }

    func lag(for nextOffsets: [TopicPartition: Int64]) -> [TopicPartition: Int64] {
        consumer.lag(for: nextOffsets)
    }

    func close(timeout: Duration) throws {
        try consumer.close(timeout: timeout)
    }

    func resume(_ partitions: [(TopicPartition, Int64)]) {
        consumer.seek(Dictionary(partitions, uniquingKeysWith: { $1 }))
        consumer.resume(partitions.map(\.0))
    }
}

/// The daemon's ``OutboxSink``: an idempotent ``KafkaProducer``.
final class KafkaOutboxSink: OutboxSink {
    private let producer: KafkaProducer

    init(_ producer: KafkaProducer) {
        self.producer = producer
    }

    func waitForBrokers(timeout: Duration) throws {
        try producer.waitForBrokers(timeout: timeout)
    }

    func produce(
        topic: String, partition: Int32?, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader], token: UInt64
    ) throws {
        try producer.produce(
            topic: topic, partition: partition, key: key, value: value, headers: headers, token: token)
    }

    func pollDeliveries(timeout: Duration) -> [DeliveryReport] {
        producer.pollDeliveries(timeout: timeout)
    }
}

extension StateStore: PipelineStore {}
