import CRdKafka
import Foundation

extension KafkaProducer {
    /// How ``ensureTopics(_:timeout:)`` found a topic.
    public enum TopicCheck: Sendable, Equatable {
        /// The topic did not exist and was created as asked.
        case created
        /// The topic exists with the asked partition count (its other settings are the operator's).
        case exists
        /// The cluster refused to create it (e.g. the embedded broker, which has no CreateTopics) but it exists with
        /// the asked partition count.
        case existsCreationRefused(String)
    }

    /// A topic the daemon needs: its name, its partition count and the settings to create it with.
    public struct TopicSpec: Sendable, Equatable {
        public var name: String
        public var partitions: Int32
        public var configs: [String: String]
        /// Take an existing topic whatever its partition count (a topic of which only partition 0 is used).
        public var anyPartitionCount: Bool
        /// What to tell the operator when the topic exists with another partition count.
        public var layoutAdvice: String
        /// Settings an existing topic must have (a value among a comma-separated list counts, e.g. `cleanup.policy`
        /// `compact,delete`), and why: checked when the cluster describes its topics.
        public var requiredSettings: [String: String]
        public var settingsReason: String

        public init(
            _ name: String, partitions: Int32, configs: [String: String], anyPartitionCount: Bool = false,
            layoutAdvice: String = "delete it or name another one", requiredSettings: [String: String] = [:],
            settingsReason: String = ""
        ) {
            self.requiredSettings = requiredSettings
            self.settingsReason = settingsReason
            self.name = name
            self.partitions = partitions
            self.configs = configs
            self.anyPartitionCount = anyPartitionCount
            self.layoutAdvice = layoutAdvice
        }
    }

    /// What is wrong with an existing topic's `settings` for `spec`, in one sentence naming the fix; nil when
    /// nothing is.
    public static func settingsProblem(_ spec: TopicSpec, settings: [String: String]) -> String? {
        for (key, wanted) in spec.requiredSettings.sorted(by: { $0.key < $1.key }) {
            let value = settings[key] ?? ""
            guard !value.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == wanted })
            else { continue }
            return "topic \(spec.name) has \(key)=\(value.isEmpty ? "(unset)" : value) but needs \(key)=\(wanted)"
                + (spec.settingsReason.isEmpty ? "" : " (\(spec.settingsReason))")
                + ": change it with kafka-configs.sh --alter --entity-type topics --entity-name \(spec.name) "
                + "--add-config \(key)=\(wanted)"
        }
        return nil
    }

    /// Makes sure each topic exists with its partition count: creates the missing ones through the admin API, in
    /// one request, with their `configs` (e.g. `cleanup.policy=compact`), and refuses, with a message naming the
    /// topic, the counts and what to do, when one exists with another partition count or cannot be created.
    /// Returns how each was found, in order.
    public func ensureTopics(_ topics: [TopicSpec], timeout: Duration) throws(KafkaError) -> [TopicCheck] {
        let creations = createTopics(topics, timeout: timeout)
        var checks: [TopicCheck] = []
        for (spec, creation) in zip(topics, creations) {
            var refusal: String?
            switch creation {
            case .created:
                checks.append(.created)
                continue
            case .alreadyExists:
                // A cluster that answers CreateTopics describes topics too; one that does not is not asked.
                if !spec.requiredSettings.isEmpty, let settings = topicSettings(spec.name, timeout: timeout),
                   let problem = Self.settingsProblem(spec, settings: settings)
                {
                    throw KafkaError(code: .configuration, message: problem)
                }
            case .refused(let reason): refusal = reason
            }
            guard let existing = try partitionCount(of: spec.name, timeout: timeout) else {
                throw KafkaError(
                    code: .unknownTopic,
                    message: "topic \(spec.name) does not exist and could not be created "
                        + "(\(refusal ?? "unknown reason")): create it with \(spec.partitions) partitions and "
                        + spec.configs.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                            .joined(separator: ", "))
            }
            guard existing == spec.partitions || spec.anyPartitionCount else {
                throw KafkaError(
                    code: .configuration,
                    message: "topic \(spec.name) has \(existing) partitions but must have \(spec.partitions): "
                        + spec.layoutAdvice)
            }
            checks.append(refusal.map { .existsCreationRefused($0) } ?? .exists)
        }
        return checks
    }

    /// The settings of `topic` as the cluster describes them (DescribeConfigs); nil when it does not answer.
    public func topicSettings(_ topic: String, timeout: Duration) -> [String: String]? {
        guard let resource = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic) else { return nil }
        defer { rd_kafka_ConfigResource_destroy(resource) }
        var text = [CChar](repeating: 0, count: 512)
        let queue = rd_kafka_queue_new(handle)
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(handle, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        _ = rd_kafka_AdminOptions_set_request_timeout(options, RdKafka.milliseconds(timeout), &text, text.count)
        var resources: [OpaquePointer?] = [resource]
        rd_kafka_DescribeConfigs(handle, &resources, 1, options, queue)
        guard let event = rd_kafka_queue_poll(queue, RdKafka.milliseconds(timeout) + 1_000) else { return nil }
        defer { rd_kafka_event_destroy(event) }
        guard rd_kafka_event_error(event) == RD_KAFKA_RESP_ERR_NO_ERROR,
              let result = rd_kafka_event_DescribeConfigs_result(event)
        else { return nil }
        var count = 0
        guard let described = rd_kafka_DescribeConfigs_result_resources(result, &count), count > 0,
              let first = described[0], rd_kafka_ConfigResource_error(first) == RD_KAFKA_RESP_ERR_NO_ERROR
        else { return nil }
        var entryCount = 0
        guard let entries = rd_kafka_ConfigResource_configs(first, &entryCount) else { return [:] }
        var settings: [String: String] = [:]
        for index in 0..<entryCount {
            guard let entry = entries[index], let name = rd_kafka_ConfigEntry_name(entry) else { continue }
            settings[String(cString: name)] = rd_kafka_ConfigEntry_value(entry).map { String(cString: $0) } ?? ""
        }
        return settings
    }

    /// The number of partitions of `topic`, or nil when the cluster does not know it.
    public func partitionCount(of topic: String, timeout: Duration) throws(KafkaError) -> Int32? {
        guard let topicHandle = rd_kafka_topic_new(handle, topic, nil) else { return nil }
        defer { rd_kafka_topic_destroy(topicHandle) }
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(handle, 0, topicHandle, &metadata, RdKafka.milliseconds(timeout))
        defer { if let metadata { rd_kafka_metadata_destroy(metadata) } }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
            throw KafkaError(
                code: RdKafka.code(err), message: "cannot read the metadata of \(topic): \(RdKafka.text(err))")
        }
        for index in 0..<Int(metadata.pointee.topic_cnt) {
            let entry = metadata.pointee.topics[index]
            guard String(cString: entry.topic) == topic else { continue }
            if entry.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || entry.partition_cnt == 0 { return nil }
            return entry.partition_cnt
        }
        return nil
    }

    /// Why CreateTopics cannot be sent, or nil. It goes to the controller, and librdkafka waits for the whole
    /// request timeout for one that the cluster does not name: the embedded broker (librdkafka 2.0's mock cluster)
    /// reports controller id 0, which none of its brokers (1…n) has, so each start waited 3 s for nothing.
    private func controllerProblem(timeout: Duration) -> String? {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(handle, 0, nil, &metadata, RdKafka.milliseconds(timeout))
        defer { if let metadata { rd_kafka_metadata_destroy(metadata) } }
        // Unanswered metadata: let CreateTopics report what is wrong.
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else { return nil }
        // With a 0 timeout this is what the metadata response just said.
        let controller = rd_kafka_controllerid(handle, 0)
        let brokers = UnsafeBufferPointer(start: metadata.pointee.brokers, count: Int(metadata.pointee.broker_cnt))
        if brokers.contains(where: { $0.id == controller }) { return nil }
        return "the cluster names no controller (id \(controller)) to create topics with"
    }

    private enum Creation {
        case created, alreadyExists
        case refused(String)
    }

    private func createTopics(_ specs: [TopicSpec], timeout: Duration) -> [Creation] {
        guard !specs.isEmpty else { return [] }
        if let problem = controllerProblem(timeout: timeout) { return specs.map { _ in .refused(problem) } }
        var text = [CChar](repeating: 0, count: 512)
        var newTopics: [OpaquePointer?] = []
        defer { for topic in newTopics { rd_kafka_NewTopic_destroy(topic) } }
        for spec in specs {
            guard let newTopic = rd_kafka_NewTopic_new(spec.name, spec.partitions, -1, &text, text.count) else {
                let reason = RdKafka.string(text)
                return specs.map { _ in .refused(reason) }
            }
            for (name, value) in spec.configs.sorted(by: { $0.key < $1.key }) {
                _ = rd_kafka_NewTopic_set_config(newTopic, name, value)
            }
            newTopics.append(newTopic)
        }
        let queue = rd_kafka_queue_new(handle)
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(handle, RD_KAFKA_ADMIN_OP_CREATETOPICS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        _ = rd_kafka_AdminOptions_set_request_timeout(options, RdKafka.milliseconds(timeout), &text, text.count)
        rd_kafka_CreateTopics(handle, &newTopics, newTopics.count, options, queue)
        let refusedAll = { (reason: String) in specs.map { _ in Creation.refused(reason) } }
        guard let event = rd_kafka_queue_poll(queue, RdKafka.milliseconds(timeout) + 1_000) else {
            return refusedAll("the cluster did not answer CreateTopics")
        }
        defer { rd_kafka_event_destroy(event) }
        if rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR {
            return refusedAll(String(cString: rd_kafka_event_error_string(event)))
        }
        guard let result = rd_kafka_event_CreateTopics_result(event) else {
            return refusedAll("CreateTopics gave no result")
        }
        var count = 0
        var byName: [String: Creation] = [:]
        if let results = rd_kafka_CreateTopics_result_topics(result, &count) {
            for index in 0..<count {
                guard let entry = results[index] else { continue }
                let err = rd_kafka_topic_result_error(entry)
                byName[String(cString: rd_kafka_topic_result_name(entry))] =
                    if err == RD_KAFKA_RESP_ERR_NO_ERROR { .created }
                    else if err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS { .alreadyExists }
                    else {
                        .refused(rd_kafka_topic_result_error_string(entry).map { String(cString: $0) }
                            ?? RdKafka.text(err))
                    }
            }
        }
        return specs.map { byName[$0.name] ?? .created }
    }
}
