import Foundation
import Logging
import SegmenterKafka
import SegmenterStore

/// The pipeline on a real Kafka cluster: the consumer, the producer, the changelog and model readers, each with its
/// librdkafka log and error callbacks routed into one ``KafkaErrorLog``, and the topics the daemon creates. Only
/// wiring: the pipeline's state is set up by its designated initialiser.
extension Pipeline {
    /// A daemon on the configured Kafka cluster and data directory.
    public convenience init(
        configuration: SegmenterConfiguration, logger: Logger, status: PipelineStatusBoard = .init()
    ) throws {
        let dataDirectory = try DataDirectory(
            configuration.store.dataDirectory,
            options: StoreOptions(
                synchronous: configuration.store.synchronousFull ? .full : .normal,
                transitionHistory: configuration.store.transitionHistory))
        let errors = KafkaErrorLog(logger: logger)
        let kafka = configuration.kafka
        let store = dataDirectory.store
        var producerProperties = kafka.properties
        producerProperties["linger.ms"] = producerProperties["linger.ms"] ?? "5"
        // Change events are repetitive JSON: lz4 makes them several times smaller on the wire and on disk.
        producerProperties["compression.codec"] = producerProperties["compression.codec"] ?? "lz4"
        let producer = try KafkaProducer(
            configuration: KafkaConfiguration(
                bootstrapServers: kafka.bootstrapServers, groupID: nil, clientID: kafka.clientID,
                properties: producerProperties),
            errorHandler: { errors.report($0, client: "producer") }, logHandler: errors.logHandler(client: "producer"))
        var changelog: ChangelogSync?
        var instanceID = try store.metadata(ChangelogSync.instanceKey) ?? ""
        if instanceID.isEmpty {
            instanceID = UUID().uuidString.lowercased()
            try store.setMetadata(ChangelogSync.instanceKey, instanceID)
        }
        if let topic = kafka.changelog, let input = kafka.eventTopics.first {
            let serial = try store.metadata(ChangelogSync.serialKey).flatMap { Int64($0) } ?? 0
            let reader = try KafkaPartitionReader(configuration: KafkaConfiguration(
                bootstrapServers: kafka.bootstrapServers, groupID: "\(kafka.groupID)-changelog-reader",
                clientID: kafka.clientID, properties: kafka.properties),
                logHandler: errors.logHandler(client: "changelog-reader"))
            changelog = ChangelogSync(
                topic: topic, inputTopic: input, instanceID: instanceID, serial: serial, reader: reader, logger: logger)
        }
        var groupModel: GroupModelSync?
        if let topic = kafka.model, let input = kafka.eventTopics.first {
            let reader = try KafkaPartitionReader(configuration: KafkaConfiguration(
                bootstrapServers: kafka.bootstrapServers, groupID: "\(kafka.groupID)-model-reader",
                clientID: kafka.clientID, properties: kafka.properties),
                logHandler: errors.logHandler(client: "model-reader"))
            groupModel = GroupModelSync(topic: topic, inputTopic: input, instanceID: instanceID, reader: reader)
        }
        let ensureTopics = { try Self.ensureTopics(kafka, producer: producer, logger: logger) }
        try self.init(
            configuration: configuration, logger: logger, status: status, dataDirectory: dataDirectory,
            sink: KafkaOutboxSink(producer), errors: errors, changelog: changelog, groupModel: groupModel,
            ensureTopics: ensureTopics
        ) { listener in
            var properties = kafka.consumerProperties(dataDirectoryInstance: instanceID)
            properties["enable.partition.eof"] = properties["enable.partition.eof"] ?? "false"
            // A fetch returns after at most 20 ms even with little data: segment changes are for campaigns that
            // react in real time (librdkafka's default 500 ms dominated event -> change latency on a quiet
            // partition).
            properties["fetch.wait.max.ms"] = properties["fetch.wait.max.ms"] ?? "20"
            // Broker health for /readyz and segmenter_kafka_brokers_up comes from librdkafka's statistics.
            properties["statistics.interval.ms"] = properties["statistics.interval.ms"] ?? "1000"
            return try KafkaEventSource(KafkaConsumer(
                configuration: KafkaConfiguration(
                    bootstrapServers: kafka.bootstrapServers, groupID: kafka.groupID, clientID: kafka.clientID,
                    properties: properties),
                rebalanceListener: listener, errorHandler: { errors.report($0, client: "consumer") },
                logHandler: errors.logHandler(client: "consumer")))
        }
    }

    /// Makes sure the changelog topic exists with the input's partition count, and the model topic exists — created
    /// in one admin request, so that a cluster without CreateTopics (the embedded broker) costs one timeout, not two.
    private static func ensureTopics(
        _ kafka: SegmenterConfiguration.Kafka, producer: KafkaProducer, logger: Logger
    ) throws {
        var specs: [KafkaProducer.TopicSpec] = []
        if let topic = kafka.changelog, let input = kafka.eventTopics.first {
            guard let partitions = try producer.partitionCount(of: input, timeout: .seconds(10)) else {
                throw KafkaError(
                    code: .unknownTopic,
                    message: "the input topic \(input) does not exist, so its changelog \(topic) cannot be laid out: "
                        + "create \(input) first (with as many partitions as you may want instances)")
            }
            specs.append(.init(
                topic, partitions: partitions, configs: Changelog.topicConfigs,
                layoutAdvice: "one per partition of \(input); delete it (its content is rebuilt from the instances' "
                    + "stores) or name another one in kafka.topics.changelog",
                requiredSettings: ["cleanup.policy": "compact"],
                settingsReason: "otherwise Kafka deletes records older than retention.ms, and a restore misses the "
                    + "customers they held"))
        }
        if let topic = kafka.model {
            specs.append(.init(
                topic, partitions: 1, configs: GroupModel.topicConfigs, anyPartitionCount: true,
                requiredSettings: ["cleanup.policy": "compact"],
                settingsReason: "otherwise the newest model expires after retention.ms and an instance that starts "
                    + "later finds none"))
        }
        guard !specs.isEmpty else { return }
        for (spec, check) in zip(specs, try producer.ensureTopics(specs, timeout: .seconds(3))) {
            logger.info("topic ready", metadata: [
                "kafka.topic": "\(spec.name)", "kafka.partitions": "\(spec.partitions)", "topic.check": "\(check)",
            ])
        }
    }
}
