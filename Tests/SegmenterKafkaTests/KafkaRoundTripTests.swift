import Foundation
import SegmenterKafka
import Testing

/// Producer and consumer against the embedded broker, one broker per test (it starts in
/// milliseconds; the consumer-group join, ~3 s, is what these tests wait for).
@Suite("Kafka producer and consumer")
struct KafkaRoundTripTests {
    @Test("keys, values, headers and timestamps arrive as they were produced")
    func roundTrip() throws {
        let broker = try EmbeddedBroker(topics: ["round-trip": 1])
        let producer = try makeProducer(broker)
        let sent = [
            KafkaMessage(
                topic: "round-trip", partition: 0, offset: 0, key: Array("c-1042".utf8), value: [0, 1, 2, 255],
                headers: [
                    KafkaHeader(key: "a", value: [1, 2]), KafkaHeader(key: "null", value: nil),
                    KafkaHeader(key: "a", value: [3]),
                ],
                timestamp: 1_700_000_000_123
            ),
            KafkaMessage(
                topic: "round-trip", partition: 0, offset: 1, key: nil, value: Array("{}".utf8),
                timestamp: 1_700_000_000_456),
        ]
        for (index, message) in sent.enumerated() {
            try producer.produce(
                topic: message.topic, key: message.key, value: message.value,
                headers: message.headers, timestamp: message.timestamp, token: UInt64(index))
        }
        #expect(try deliveries(producer, count: 2).allSatisfy { $0.error == nil })

        let consumer = try makeConsumer(broker)
        try consumer.subscribe(topics: ["round-trip"])
        var lastA: [UInt8]?
        var missing: UnsafeRawBufferPointer?
        var received: [KafkaMessage] = []
        let end = ContinuousClock.now + .seconds(20)
        while received.count < 2, ContinuousClock.now < end {
            try consumer.poll(max: 10, timeout: .milliseconds(200)) { view in
                if view.offset == 0 {
                    lastA = view.header("a").map { Array($0) }
                    missing = view.header("absent")
                }
                received.append(KafkaMessage(view))
            }
        }
        #expect(received == sent)
        #expect(lastA == [3])
        #expect(missing == nil)
    }

    @Test("every produced message gets exactly one delivery report naming its token")
    func oneDeliveryReportPerMessage() throws {
        let broker = try EmbeddedBroker(topics: ["reports": 4])
        let producer = try makeProducer(broker)
        let count = 5_000
        for token in 1...UInt64(count) {
            try producer.produce(
                topic: "reports", key: Array("k\(token)".utf8), value: [UInt8](repeating: 7, count: 100),
                token: token)
        }
        let reports = try deliveries(producer, count: count)
        let extra = producer.pollDeliveries(timeout: .milliseconds(300))
        #expect(reports.map(\.token).sorted() == Array(1...UInt64(count)))
        #expect(reports.allSatisfy { $0.error == nil && $0.offset >= 0 && $0.topic == "reports" })
        #expect(extra.isEmpty)
        #expect(producer.pendingCount == 0)
    }

    @Test("lag is the high watermark minus the next offset: 100 produced, 40 consumed, lag 60")
    func lagAfterPartialConsumption() throws {
        let broker = try EmbeddedBroker(topics: ["lag": 2])
        let producer = try makeProducer(broker)
        for token in 0..<100 {
            try producer.produce(topic: "lag", partition: 1, key: nil, value: [1], token: UInt64(token))
        }
        _ = try deliveries(producer, count: 100)
        let consumer = try makeConsumer(broker)
        try consumer.subscribe(topics: ["lag"])
        let consumed = try consume(consumer, count: 40)
        let partition = TopicPartition(topic: "lag", partition: 1)
        #expect(consumed.count == 40)
        #expect(consumed.last?.offset == 39)
        #expect(consumer.lag(for: [partition: 40]) == [partition: 60])
    }

    @Test("start offsets supplied on assignment are where consumption starts")
    func startOffsetsHonoured() throws {
        let broker = try EmbeddedBroker(topics: ["starts": 2])
        let producer = try makeProducer(broker)
        for partition in Int32(0)..<2 {
            for token in 0..<50 {
                try producer.produce(topic: "starts", partition: partition, key: nil, value: [1], token: UInt64(token))
            }
        }
        _ = try deliveries(producer, count: 100)
        let owner = RecordingOwner()
        let first = TopicPartition(topic: "starts", partition: 0)
        let second = TopicPartition(topic: "starts", partition: 1)
        owner.startOffsets = [first: 30, second: 45]
        let consumer = try makeConsumer(broker, listener: owner)
        try consumer.subscribe(topics: ["starts"])
        let messages = try consume(consumer, count: 25) + consume(consumer, count: 1, within: .milliseconds(500))
        let offsets = Dictionary(grouping: messages, by: \.partition).mapValues { $0.map(\.offset) }
        #expect(offsets[0] == Array(30..<50))
        #expect(offsets[1] == Array(45..<50))
    }

    @Test("an unreachable bootstrap address gives a clear unreachable error within the timeout")
    func unreachableBootstrap() throws {
        let configuration = KafkaConfiguration(bootstrapServers: "127.0.0.1:1", groupID: "nobody")
        let consumer = try KafkaConsumer(configuration: configuration, rebalanceListener: nil)
        let started = ContinuousClock.now
        let error = #expect(throws: KafkaError.self) { try consumer.waitForBrokers(timeout: .seconds(2)) }
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(error?.code == .unreachable)
        #expect(error?.message.contains("cannot reach broker 127.0.0.1:1 within 2 s") == true)
        #expect(error?.message.contains("kafka.bootstrap_servers") == true)
    }

    @Test("an unknown librdkafka property is rejected with librdkafka's text naming it")
    func invalidProperty() throws {
        let configuration = KafkaConfiguration(
            bootstrapServers: "127.0.0.1:1", groupID: "g", properties: ["no.such.property": "1"]
        )
        let error = #expect(throws: KafkaError.self) { try KafkaProducer(configuration: configuration) }
        #expect(error?.code == .configuration)
        #expect(error?.message.contains("no.such.property") == true)
    }

    @Test("turning automatic commits on is refused: the owner commits offsets")
    func autoCommitRefused() throws {
        let configuration = KafkaConfiguration(
            bootstrapServers: "127.0.0.1:1", groupID: "g", properties: ["enable.auto.commit": "true"]
        )
        let error = #expect(throws: KafkaError.self) {
            try KafkaConsumer(configuration: configuration, rebalanceListener: nil)
        }
        #expect(error?.code == .configuration)
        #expect(error?.message.contains("enable.auto.commit") == true)
    }
}
