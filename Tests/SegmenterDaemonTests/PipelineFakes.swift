import Foundation
import Logging
import SegmenterKafka
import SegmenterStore

@testable import SegmenterDaemon

/// An in-memory topic `events` with a fixed set of partitions, delivered as a consumer-group member would: it is
/// assigned every partition on the first poll, resumes each from the offset the listener returns, and can be told
/// to revoke everything after a number of messages (then it is assigned again on the next poll).
final class FakeEventSource: EventSource, @unchecked Sendable {
    private let lock = NSLock()
    private weak var listener: (any KafkaRebalanceListener)?
    private let partitions: [[(key: [UInt8]?, value: [UInt8])]]
    private var next: [Int64]
    private var assigned = false
    private var delivered = 0
    /// Revoke every partition once this many messages were delivered.
    var revokeAfter: Int?
    /// At most this many messages per poll (whatever the pipeline asks for).
    let maxPerPoll: Int
    private(set) var revocations = 0

    init(listener: any KafkaRebalanceListener, partitions: [[(key: [UInt8]?, value: [UInt8])]], maxPerPoll: Int) {
        self.listener = listener
        self.partitions = partitions
        next = Array(repeating: 0, count: partitions.count)
        self.maxPerPoll = maxPerPoll
    }

    private var topicPartitions: [TopicPartition] {
        partitions.indices.map { TopicPartition(topic: "events", partition: Int32($0)) }
    }

    var exhausted: Bool {
        lock.withLock { zip(next, partitions).allSatisfy { $0 == Int64($1.count) } }
    }

    let brokerHealth: BrokerHealth? = BrokerHealth(up: 1, known: 1)
    func waitForBrokers(timeout: Duration) throws {}
    func subscribe(topics: [String]) throws {}
    func commit(_ offsets: [TopicPartition: Int64]) throws {}
    func close(timeout: Duration) throws {}
    func resume(_ partitions: [(TopicPartition, Int64)]) {}

    func lag(for nextOffsets: [TopicPartition: Int64]) -> [TopicPartition: Int64] {
        nextOffsets.reduce(into: [:]) { $0[$1.key] = Int64(partitions[Int($1.key.partition)].count) - $1.value }
    }

    @discardableResult
    func poll(max: Int, timeout: Duration, _ body: (SourceMessage) throws -> Void) throws -> Int {
        guard let listener else { return 0 }
        if !assigned {
            assigned = true
            let starts = listener.partitionsAssigned(topicPartitions)
            lock.withLock {
                for (topicPartition, offset) in starts { next[Int(topicPartition.partition)] = offset }
            }
        }
        if let revokeAfter, delivered >= revokeAfter {
            self.revokeAfter = nil
            revocations += 1
            listener.partitionsRevoked(topicPartitions)
            assigned = false
            return 0
        }
        var visited = 0
        let limit = min(max, maxPerPoll)
        // Round robin over partitions, a few messages at a time, as fetches interleave.
        var progressed = true
        while visited < limit, progressed {
            progressed = false
            for p in partitions.indices where visited < limit {
                let offset = lock.withLock { next[p] }
                guard offset < Int64(partitions[p].count) else { continue }
                let message = partitions[p][Int(offset)]
                let key = message.key ?? []
                try message.value.withUnsafeBytes { value in
                    try key.withUnsafeBytes { keyBytes in
                        try body(SourceMessage(
                            topic: "events", partition: Int32(p), offset: offset,
                            key: message.key == nil ? nil : keyBytes, value: value, timestamp: 1_700_000_000_000))
                    }
                }
                lock.withLock { next[p] = offset + 1 }
                visited += 1
                delivered += 1
                progressed = true
                if revokeAfter.map({ delivered >= $0 }) ?? false { return visited }
            }
        }
        if visited == 0 { Thread.sleep(forTimeInterval: min(0.005, Double(timeout.components.seconds) + 0.001)) }
        return visited
    }
}

/// Records what the pipeline produces and reports deliveries as a test decides: immediately, after failing the
/// next `failures` attempts, or not at all while `holding`.
final class FakeOutboxSink: OutboxSink, @unchecked Sendable {
    struct Produced: Equatable {
        var topic: String
        var value: [UInt8]
        var token: UInt64
    }

    private let lock = NSLock()
    private var producedMessages: [Produced] = []
    private var reports: [DeliveryReport] = []
    private var heldTokens: [(UInt64, String)] = []
    private var failuresLeft = 0
    private var holding = false

    var produced: [Produced] { lock.withLock { producedMessages } }

    /// The next `count` produced messages are reported as failed deliveries.
    func fail(next count: Int) { lock.withLock { failuresLeft = count } }

    /// While holding, produced messages get no report (they stay in flight).
    func hold() { lock.withLock { holding = true } }

    /// Reports every held message as delivered.
    func release() {
        lock.withLock {
            holding = false
            for (token, topic) in heldTokens { reports.append(report(token, topic, error: nil)) }
            heldTokens.removeAll()
        }
    }

    func waitForBrokers(timeout: Duration) throws {}

    func produce(
        topic: String, partition: Int32?, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader], token: UInt64
    ) throws {
        lock.withLock {
            producedMessages.append(Produced(topic: topic, value: value, token: token))
            if holding {
                heldTokens.append((token, topic))
            } else if failuresLeft > 0 {
                failuresLeft -= 1
                reports.append(report(token, topic, error: KafkaError(code: .delivery, message: "broker down (test)")))
            } else {
                reports.append(report(token, topic, error: nil))
            }
        }
    }

    func pollDeliveries(timeout: Duration) -> [DeliveryReport] {
        lock.withLock {
            defer { reports.removeAll() }
            return reports
        }
    }

    private func report(_ token: UInt64, _ topic: String, error: KafkaError?) -> DeliveryReport {
        DeliveryReport(token: token, topic: topic, partition: 0, offset: 0, error: error)
    }
}

/// A pipeline on fakes, running on its own thread until `finish()`.
final class FakePipelineRun: @unchecked Sendable {
    let pipeline: Pipeline
    private(set) var source: FakeEventSource!
    private let done = DispatchSemaphore(value: 0)
    private var error: Error?

    init(
        configuration: SegmenterConfiguration, sink: FakeOutboxSink,
        partitions: [[(key: [UInt8]?, value: [UInt8])]], maxPerPoll: Int, revokeAfter: Int? = nil
    ) throws {
        var logger = Logger(label: "test")
        logger.logLevel = .error
        var made: FakeEventSource?
        pipeline = try Pipeline(
            configuration: configuration, logger: logger, status: PipelineStatusBoard(),
            dataDirectory: DataDirectory(configuration.store.dataDirectory), sink: sink
        ) { listener in
            let source = FakeEventSource(listener: listener, partitions: partitions, maxPerPoll: maxPerPoll)
            source.revokeAfter = revokeAfter
            made = source
            return source
        }
        source = made
        Thread { [self] in
            do { try pipeline.run() } catch { self.error = error }
            done.signal()
        }.start()
    }

    /// Waits until every message was consumed and committed, then stops the pipeline.
    func finish(consumed total: Int, dataDirectory: String) throws {
        _ = try waitUntilConsumed(total, dataDirectories: [dataDirectory], within: .seconds(60))
        pipeline.stop()
        if done.wait(timeout: .now() + 30) != .success { throw SegmenterError(.timeout, "the pipeline did not stop") }
        if let error { throw error }
    }
}

/// A test configuration without Kafka: fakes stand in for the consumer and producer.
func fakeConfiguration(dataDirectory: String, batchSize: Int, batchIntervalMilliseconds: Int = 100) throws
    -> SegmenterConfiguration
{
    var c = try SegmenterConfiguration.load(path: nil, environment: [:])
    c.store.dataDirectory = dataDirectory
    c.store.batchSize = batchSize
    c.store.batchIntervalMilliseconds = batchIntervalMilliseconds
    c.store.cacheSize = max(c.store.cacheSize, 2 * batchSize)
    c.http.enabled = false
    c.segmentation.kmeans.initSample = 500
    return c
}

/// A change's JSON line without `emitted_at` (the one field that depends on when it was made).
func withoutEmittedAt(_ line: String) -> String {
    line.replacing(/,"emitted_at":"[^"]*"/, with: "")
}
