import SegmenterKafka
import Testing

/// Two members of one consumer group. Serialized: each waits through the embedded broker's ~10 s
/// cooperative rebalance, which is timing-sensitive on a loaded 2-core machine.
@Suite("Kafka consumer group rebalances", .serialized)
struct KafkaGroupTests {
    @Test("two members split the partitions and the listener is told exactly which ones")
    func membersSplitPartitions() throws {
        let broker = try EmbeddedBroker(topics: ["split": 4])
        let all = Set((0..<4).map { TopicPartition(topic: "split", partition: Int32($0)) })
        let group = freshGroupID()
        let ownerA = RecordingOwner()
        let ownerB = RecordingOwner()
        let consumerA = try makeConsumer(broker, group: group, listener: ownerA)
        try consumerA.subscribe(topics: ["split"])
        try pollBoth([consumerA], until: { ownerA.assigned.count == 1 })
        #expect(ownerA.assigned == [all])

        let consumerB = try makeConsumer(broker, group: group, listener: ownerB)
        try consumerB.subscribe(topics: ["split"])
        try pollBoth(
            [consumerA, consumerB],
            until: {
                consumerA.assignment().count == 2 && consumerB.assignment().count == 2
            })
        let finalA = Set(consumerA.assignment())
        let finalB = Set(consumerB.assignment())
        #expect(finalA.count == 2 && finalB.count == 2)
        #expect(finalA.union(finalB) == all)
        #expect(
            ownerA.revoked.reduce(into: Set()) { $0.formUnion($1) } == finalB, "A must be told of exactly what it lost")
        #expect(ownerA.owned == finalA)
        #expect(ownerB.owned == finalB)
    }

    @Test("committing inside the revoke callback loses and duplicates no message across a rebalance")
    func noLossNoDuplicatesAcrossRebalance() throws {
        let broker = try EmbeddedBroker(topics: ["flow": 4])
        let producer = try makeProducer(broker)
        let group = freshGroupID()
        let ownerA = RecordingOwner()
        let ownerB = RecordingOwner()
        let consumerA = try makeConsumer(broker, group: group, listener: ownerA)
        ownerA.consumer = consumerA
        try consumerA.subscribe(topics: ["flow"])
        var consumerB: KafkaConsumer?
        var produced: [DeliveryReport] = []
        var token: UInt64 = 0

        // Produce steadily while A works slowly (a backlog stays prefetched), B joins, and the group
        // settles; then drain.
        let end = ContinuousClock.now + .seconds(40)
        while ContinuousClock.now < end {
            let settled = consumerB.map { !$0.assignment().isEmpty } == true && consumerA.assignment().count < 4
            if !settled {
                for partition in Int32(0)..<4 {
                    token += 1
                    try producer.produce(topic: "flow", partition: partition, key: nil, value: [1], token: token)
                }
            }
            produced += producer.pollDeliveries(timeout: .zero)
            try consumerA.poll(max: 3, timeout: .milliseconds(50)) { ownerA.process($0) }
            if let consumerB {
                try consumerB.poll(max: 3, timeout: .milliseconds(50)) { ownerB.process($0) }
            } else if ownerA.processed.values.map(\.count).reduce(0, +) >= 20 {
                consumerB = try makeConsumer(broker, group: group, listener: ownerB)
                ownerB.consumer = consumerB
                try consumerB?.subscribe(topics: ["flow"])
            }
            let done =
                ownerA.processed.values.map(\.count).reduce(0, +) + ownerB.processed.values.map(\.count).reduce(0, +)
            if settled, produced.count == Int(token), done >= produced.count { break }
        }
        // A little longer, so that any duplicate still on its way shows up.
        try pollBoth([consumerA, consumerB].compactMap { $0 }, owners: [ownerA, ownerB], for: .milliseconds(500))

        #expect(!ownerA.revoked.isEmpty, "A should have given partitions up")
        #expect(
            ownerA.commitErrors.isEmpty && ownerB.commitErrors.isEmpty, "\(ownerA.commitErrors + ownerB.commitErrors)")
        var expected: [TopicPartition: [Int64]] = [:]
        for report in produced {
            #expect(report.error == nil)
            expected[TopicPartition(topic: report.topic, partition: report.partition), default: []].append(
                report.offset)
        }
        var got = ownerA.processed
        for (partition, offsets) in ownerB.processed { got[partition, default: []] += offsets }
        #expect(produced.count == Int(token))
        #expect(got.mapValues { $0.sorted() } == expected.mapValues { $0.sorted() })
        #expect(!ownerB.processed.isEmpty, "B should have processed messages after the rebalance")
    }

    /// Polls all consumers in turn (the group needs every member to poll) until `condition` holds.
    private func pollBoth(_ consumers: [KafkaConsumer], until condition: () -> Bool) throws {
        let end = ContinuousClock.now + .seconds(30)
        while !condition(), ContinuousClock.now < end {
            for consumer in consumers { try consumer.poll(max: 100, timeout: .milliseconds(50)) { _ in } }
        }
        #expect(condition(), "the group did not settle within 30 s")
    }

    private func pollBoth(_ consumers: [KafkaConsumer], owners: [RecordingOwner], for duration: Duration) throws {
        let end = ContinuousClock.now + duration
        while ContinuousClock.now < end {
            for (consumer, owner) in zip(consumers, owners) {
                try consumer.poll(max: 100, timeout: .milliseconds(50)) { owner.process($0) }
            }
        }
    }
}
