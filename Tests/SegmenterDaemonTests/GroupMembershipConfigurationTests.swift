import Foundation
import SegmenterKafka
import Testing

@testable import SegmenterDaemon

/// `kafka.group_instance_id` and the session defaults, from the YAML file to the properties librdkafka runs with.
@Suite("consumer-group membership configuration")
struct GroupMembershipConfigurationTests {
    func kafka(_ yaml: String) throws -> SegmenterConfiguration.Kafka {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("segmenter.yaml").path
            try yaml.write(toFile: path, atomically: true, encoding: .utf8)
            return try SegmenterConfiguration.load(path: path, environment: [:]).kafka
        }
    }

    func consumer(_ kafka: SegmenterConfiguration.Kafka, instance: String) throws -> KafkaConsumer {
        try KafkaConsumer(
            configuration: KafkaConfiguration(
                bootstrapServers: "127.0.0.1:1", groupID: kafka.groupID,
                properties: kafka.consumerProperties(dataDirectoryInstance: instance)),
            rebalanceListener: nil)
    }

    @Test("by default the consumer is a static member named after the group and the data directory's instance id")
    func staticByDefault() throws {
        let consumer = try consumer(try kafka("kafka:\n  group_id: shop\n"), instance: "4f1c")
        #expect(consumer.effectiveProperty("group.instance.id") == "shop-4f1c")
        #expect(consumer.effectiveProperty("session.timeout.ms") == "6000")
        #expect(consumer.effectiveProperty("heartbeat.interval.ms") == "2000")
    }

    @Test("group_instance_id: off joins as a dynamic member")
    func off() throws {
        let consumer = try consumer(try kafka("kafka:\n  group_instance_id: off\n"), instance: "4f1c")
        #expect(consumer.effectiveProperty("group.instance.id") == nil)
    }

    @Test("an explicit group_instance_id is used as given")
    func explicit() throws {
        let consumer = try consumer(try kafka("kafka:\n  group_instance_id: pod-3\n"), instance: "4f1c")
        #expect(consumer.effectiveProperty("group.instance.id") == "pod-3")
    }

    @Test("kafka.properties win over the membership defaults")
    func propertiesWin() throws {
        let yaml = """
            kafka:
              properties:
                group.instance.id: from-properties
                session.timeout.ms: "45000"
            """
        let consumer = try consumer(try kafka(yaml), instance: "4f1c")
        #expect(consumer.effectiveProperty("group.instance.id") == "from-properties")
        #expect(consumer.effectiveProperty("session.timeout.ms") == "45000")
    }

    @Test("an empty group_instance_id is refused with the values it can take")
    func empty() throws {
        let error = #expect(throws: ConfigurationError.self) { try kafka("kafka:\n  group_instance_id: \"\"\n") }
        #expect(error?.description.contains("kafka.group_instance_id") == true)
        #expect(error?.description.contains("auto") == true && error?.description.contains("off") == true)
    }
}
