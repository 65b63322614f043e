import Foundation
import SegmenterCore
import SegmenterKafka
import ServiceLifecycle
import Synchronization

/// Produces synthetic shopper events to a Kafka topic, keyed by customer id, either as fast as possible or at a
/// steady rate: `segmenter generate --brokers` and the live stream of `segmenter demo`. Stops when the
/// generator is exhausted or on graceful shutdown, after flushing.
public final class EventStreamProducer: Service, @unchecked Sendable {
    public struct Progress: Sendable {
        public var produced = 0
        public var delivered = 0
        public var failed = 0
        public var finished = false
    }

    private let producer: KafkaProducer
    private let topic: String
    private let rate: Double?
    private let format: InputFormat
    private let generatorState: Mutex<SyntheticShoppers>
    private let stopRequested = Atomic<Bool>(false)
    public let progress = Mutex(Progress())

    /// `rate` in events per second; nil produces as fast as the broker accepts. `format` is the shape of the
    /// messages (``Event/jsonLine(format:)``). Default: native.
    public init(bootstrapServers: String, topic: String, shoppers: SyntheticShoppers, rate: Double?,
                format: InputFormat = .native, properties: [String: String] = [:]) throws {
        var properties = properties
        properties["compression.codec"] = properties["compression.codec"] ?? "lz4"
        properties["linger.ms"] = properties["linger.ms"] ?? "20"
        producer = try KafkaProducer(configuration: KafkaConfiguration(
            bootstrapServers: bootstrapServers, groupID: nil, clientID: "segmenter-generator", properties: properties))
        self.topic = topic
        self.rate = rate
        self.format = format
        generatorState = Mutex(shoppers)
    }

    public func stop() {
        stopRequested.store(true, ordering: .relaxed)
    }

    /// Produces on the calling thread until done or stopped; returns what happened.
    public func produceAll() throws -> Progress {
        try producer.waitForBrokers(timeout: .seconds(10))
        let started = ContinuousClock.now
        var produced = 0
        var token: UInt64 = 0
        while !stopRequested.load(ordering: .relaxed) {
            guard let event = generatorState.withLock({ $0.next() }) else { break }
            let line = event.jsonLine(format: format)
            try producer.produce(
                topic: topic, key: Array(event.customerID.utf8), value: Array(line.utf8), token: token)
            token += 1
            produced += 1
            if let rate, produced % 64 == 0 {
                let due = started + .seconds(Double(produced) / rate)
                let now = ContinuousClock.now
                if due > now { Thread.sleep(forTimeInterval: (due - now).seconds) }
            }
            if produced % 1_024 == 0 { record(producer.pollDeliveries(timeout: .zero), produced: produced) }
        }
        try? producer.flush(timeout: .seconds(30))
        record(producer.pollDeliveries(timeout: .zero), produced: produced)
        progress.withLock { $0.finished = true }
        return progress.withLock { $0 }
    }

    private func record(_ reports: [DeliveryReport], produced: Int) {
        let failed = reports.filter { $0.error != nil }.count
        progress.withLock {
            $0.produced = produced
            $0.delivered += reports.count - failed
            $0.failed += failed
        }
    }

    public func run() async throws {
        try await runBlockingService(
            threadName: "segmenter-generator", work: { [self] in _ = try produceAll() }, stop: { [self] in stop() })
    }
}
