import CRdKafka

extension KafkaProducer {
    /// How ``ensureTopic(_:partitions:configs:timeout:)`` found the topic.
    public enum TopicCheck: Sendable, Equatable {
        /// The topic did not exist and was created as asked.
        case created
        /// The topic exists with the asked partition count (its other settings are the operator's).
        case exists
        /// The cluster refused to create it (e.g. the embedded broker, which has no CreateTopics) but it exists with
        /// the asked partition count.
        case existsCreationRefused(String)
    }

    /// Makes sure `topic` exists with `partitions` partitions: creates it through the admin API with `configs`
    /// (e.g. `cleanup.policy=compact`) when it is missing, and refuses, with a message naming the topic, the counts
    /// and what to do, when it exists with another partition count or cannot be created.
    public func ensureTopic(_ topic: String, partitions: Int32, configs: [String: String], timeout: Duration)
        throws(KafkaError) -> TopicCheck
    {
        var refusal: String?
        switch createTopic(topic, partitions: partitions, configs: configs, timeout: timeout) {
        case .created: return .created
        case .alreadyExists: break
        case .refused(let reason): refusal = reason
        }
        guard let existing = try partitionCount(of: topic, timeout: timeout) else {
            throw KafkaError(
                code: .unknownTopic,
                message: "topic \(topic) does not exist and could not be created (\(refusal ?? "unknown reason")): "
                    + "create it with \(partitions) partitions and "
                    + configs.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))
        }
        guard existing == partitions else {
            throw KafkaError(
                code: .configuration,
                message: "topic \(topic) has \(existing) partitions but must have \(partitions), one per input "
                    + "partition: delete it (its content is rebuilt from the instances' stores) or name another one")
        }
        return refusal.map { .existsCreationRefused($0) } ?? .exists
    }

    /// The number of partitions of `topic`, or nil when the cluster does not know it.
    public func partitionCount(of topic: String, timeout: Duration) throws(KafkaError) -> Int32? {
        guard let topicHandle = rd_kafka_topic_new(handle, topic, nil) else { return nil }
        defer { rd_kafka_topic_destroy(topicHandle) }
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(handle, 0, topicHandle, &metadata, RdKafka.milliseconds(timeout))
        defer { if let metadata { rd_kafka_metadata_destroy(metadata) } }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
            throw KafkaError(code: RdKafka.code(err), message: "cannot read the metadata of \(topic): \(RdKafka.text(err))")
        }
        for index in 0..<Int(metadata.pointee.topic_cnt) {
            let entry = metadata.pointee.topics[index]
            guard String(cString: entry.topic) == topic else { continue }
            if entry.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || entry.partition_cnt == 0 { return nil }
            return entry.partition_cnt
        }
        return nil
    }

    private enum Creation {
        case created, alreadyExists
        case refused(String)
    }

    private func createTopic(_ topic: String, partitions: Int32, configs: [String: String], timeout: Duration)
        -> Creation
    {
        var text = [CChar](repeating: 0, count: 512)
        guard let newTopic = rd_kafka_NewTopic_new(topic, partitions, -1, &text, text.count) else {
            return .refused(RdKafka.string(text))
        }
        defer { rd_kafka_NewTopic_destroy(newTopic) }
        for (name, value) in configs.sorted(by: { $0.key < $1.key }) {
            _ = rd_kafka_NewTopic_set_config(newTopic, name, value)
        }
        let queue = rd_kafka_queue_new(handle)
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(handle, RD_KAFKA_ADMIN_OP_CREATETOPICS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        _ = rd_kafka_AdminOptions_set_request_timeout(options, RdKafka.milliseconds(timeout), &text, text.count)
        var topics: [OpaquePointer?] = [newTopic]
        rd_kafka_CreateTopics(handle, &topics, 1, options, queue)
        guard let event = rd_kafka_queue_poll(queue, RdKafka.milliseconds(timeout) + 1_000) else {
            return .refused("the cluster did not answer CreateTopics")
        }
        defer { rd_kafka_event_destroy(event) }
        let eventError = rd_kafka_event_error(event)
        if eventError != RD_KAFKA_RESP_ERR_NO_ERROR {
            return .refused(String(cString: rd_kafka_event_error_string(event)))
        }
        guard let result = rd_kafka_event_CreateTopics_result(event) else {
            return .refused("CreateTopics gave no result")
        }
        var count = 0
        guard let results = rd_kafka_CreateTopics_result_topics(result, &count), count > 0,
              let first = results[0]
        else { return .created }
        let err = rd_kafka_topic_result_error(first)
        if err == RD_KAFKA_RESP_ERR_NO_ERROR { return .created }
        if err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS { return .alreadyExists }
        return .refused(rd_kafka_topic_result_error_string(first).map { String(cString: $0) } ?? RdKafka.text(err))
    }
}
