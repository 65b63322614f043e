import SegmenterKafka
import Testing

/// What a client runs with, read back from librdkafka itself rather than from the Swift configuration.
@Suite("Kafka client configuration")
struct KafkaClientTests {
    @Test("a consumer given group.instance.id joins as that static member: librdkafka runs with it")
    func staticMemberReachesLibrdkafka() throws {
        let consumer = try KafkaConsumer(
            configuration: KafkaConfiguration(
                bootstrapServers: "127.0.0.1:1", groupID: "g",
                properties: ["group.instance.id": "g-instance-7", "session.timeout.ms": "6000"]),
            rebalanceListener: nil)
        #expect(consumer.effectiveProperty("group.instance.id") == "g-instance-7")
        #expect(consumer.effectiveProperty("session.timeout.ms") == "6000")
        #expect(consumer.effectiveProperty("enable.auto.commit") == "false", "the wrapper's required settings hold")
    }

    @Test("a consumer given no group.instance.id is a dynamic member")
    func dynamicMemberByDefault() throws {
        let consumer = try KafkaConsumer(
            configuration: KafkaConfiguration(bootstrapServers: "127.0.0.1:1", groupID: "g"), rebalanceListener: nil)
        #expect(consumer.effectiveProperty("group.instance.id") == nil)
    }
}
