import Foundation
import SegmenterKafka
import Testing

/// `ensureTopics` against the embedded broker, which has no CreateTopics: topics it already has are taken when
/// their layout fits, and refused with the counts and the advice otherwise (issue 17).
@Suite("Kafka topics the daemon needs")
struct KafkaTopicsTests {
    @Test("existing topics are checked in one request: the right count passes, another count is refused")
    func checksLayouts() throws {
        let broker = try EmbeddedBroker(topics: ["log": 4, "model": 3])
        let producer = try makeProducer(broker)
        let started = ContinuousClock.now
        let checks = try producer.ensureTopics([
            .init("log", partitions: 4, configs: ["cleanup.policy": "compact"]),
            .init("model", partitions: 1, configs: ["cleanup.policy": "compact"], anyPartitionCount: true),
        ], timeout: .seconds(2))
        #expect(checks.count == 2)
        for check in checks {
            guard case .existsCreationRefused = check else {
                Issue.record("the embedded broker cannot create topics, so both exist as they were: \(check)")
                continue
            }
        }
        #expect(ContinuousClock.now - started < .seconds(8), "one CreateTopics wait for both, not one each")

        #expect {
            try producer.ensureTopics(
                [.init("log", partitions: 6, configs: [:], layoutAdvice: "name another one")], timeout: .seconds(2))
        } throws: { error in
            let text = "\(error)"
            return text.contains("log has 4 partitions but must have 6") && text.contains("name another one")
        }
        #expect {
            try producer.ensureTopics([.init("absent", partitions: 2, configs: ["cleanup.policy": "compact"])],
                                      timeout: .seconds(2))
        } throws: { error in
            let text = "\(error)"
            // The embedded broker may auto-create a topic it is asked about, with its own default count.
            return text.contains("absent") && (text.contains("create it with 2 partitions and cleanup.policy=compact")
                || text.contains("must have 2"))
        }
    }

    @Test("an existing changelog must be compacted: delete alone is refused with the command that fixes it")
    func settingsChecked() {
        let spec = KafkaProducer.TopicSpec(
            "log", partitions: 4, configs: [:], requiredSettings: ["cleanup.policy": "compact"],
            settingsReason: "or restores miss customers")
        #expect(KafkaProducer.settingsProblem(spec, settings: ["cleanup.policy": "compact"]) == nil)
        #expect(KafkaProducer.settingsProblem(spec, settings: ["cleanup.policy": "compact,delete"]) == nil)
        #expect(KafkaProducer.settingsProblem(spec, settings: ["cleanup.policy": "delete, compact"]) == nil)
        let problem = KafkaProducer.settingsProblem(spec, settings: ["cleanup.policy": "delete"])
        #expect(problem == "topic log has cleanup.policy=delete but needs cleanup.policy=compact (or restores miss "
            + "customers): change it with kafka-configs.sh --alter --entity-type topics --entity-name log "
            + "--add-config cleanup.policy=compact")
        #expect(KafkaProducer.settingsProblem(spec, settings: [:])?.contains("cleanup.policy=(unset)") == true)
    }
}
