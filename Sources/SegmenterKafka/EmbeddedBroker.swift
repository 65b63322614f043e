import CRdKafka
import Synchronization

/// A Kafka cluster inside this process: librdkafka's mock cluster, which speaks the real Kafka
/// protocol over loopback TCP (127.0.0.1, ephemeral ports), for tests, `segmenter broker` and demos.
///
/// It supports producing (idempotent too), consumer groups with committed offsets, and metadata.
/// Quirks to know:
/// - Retention: each partition keeps only about 5 MB of record batches; older batches are dropped as
///   if by retention, so a consumer reading "from the beginning" may start later than offset 0.
///   Spread large loads over enough partitions (e.g. 1M × 200 B lz4 over 64 partitions).
/// - Joining a consumer group takes a fixed ~3 s; a second member's rebalance takes ~5 s (eager) with
///   `session.timeout.ms=6000`, `heartbeat.interval.ms=500`, and stalls with the defaults.
/// - Transactions are accepted but not real; do not build on them.
/// - Unknown topics are auto-created on first use with the mock's default partition count.
///
/// The cluster stops when `stop()` is called or the instance is released. `Sendable`: any thread
/// may create topics or stop it.
public final class EmbeddedBroker: Sendable {
    /// The client the mock cluster is attached to, and the cluster; both `nil` once stopped.
    private let state: Mutex<(client: RdKafkaClient?, cluster: OpaquePointer?)>

    /// The bootstrap servers string for clients, e.g. `127.0.0.1:40123`.
    public let bootstrapServers: String

    /// Starts `brokers` mock brokers and creates `topics` (name → partition count).
    public init(brokers: Int = 1, topics: [String: Int32] = [:]) throws(KafkaError) {
        guard brokers >= 1 else {
            throw KafkaError(
                code: .configuration, message: "an embedded broker needs at least 1 broker, got \(brokers)")
        }
        let conf = try KafkaConfiguration(bootstrapServers: "", clientID: "segmenter-embedded-broker")
            .makeConf(defaults: ["log_level": "4"], required: [:])  // no "no bootstrap.servers" notice
        // No callbacks: this handle only anchors the cluster, and the cluster's own warnings belong on stderr.
        let client = try RdKafkaClient(RD_KAFKA_PRODUCER, conf: conf, bootstrapServers: "", callbacks: .init())
        guard let cluster = rd_kafka_mock_cluster_new(client.handle, Int32(brokers)) else {
            throw KafkaError(code: .configuration, message: "cannot start the embedded broker (mock cluster)")
        }
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
        state = Mutex((client, cluster))
        for (name, partitions) in topics.sorted(by: { $0.key < $1.key }) {
            try createTopic(name, partitions: partitions)
        }
    }

    deinit { stop() }

    /// Creates a topic with `partitions` partitions (replication factor 1).
    public func createTopic(_ name: String, partitions: Int32) throws(KafkaError) {
        guard partitions >= 1 else {
            throw KafkaError(
                code: .configuration, message: "topic \(name) needs at least 1 partition, got \(partitions)")
        }
        let err = state.withLock { state in
            state.cluster.map { rd_kafka_mock_topic_create($0, name, partitions, 1) }
        }
        guard let err else {
            throw KafkaError(
                code: .configuration, message: "cannot create topic \(name): the embedded broker is stopped")
        }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(code: .unknownTopic, message: "cannot create topic \(name): \(RdKafka.text(err))")
        }
    }

    /// Takes broker `id` (1 … `brokers`) down — its connections are closed and new ones refused, as in an
    /// outage — or brings it back up.
    public func setBroker(_ id: Int32, up: Bool) throws(KafkaError) {
        let err = state.withLock { state in
            state.cluster.map { up ? rd_kafka_mock_broker_set_up($0, id) : rd_kafka_mock_broker_set_down($0, id) }
        }
        guard let err else {
            throw KafkaError(
                code: .configuration, message: "cannot change broker \(id): the embedded broker is stopped")
        }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(code: .configuration, message: "cannot change broker \(id): \(RdKafka.text(err))")
        }
    }

    /// Makes broker `leader` the leader of a partition; -1 leaves it without a leader, so nothing can be produced to
    /// it (clients wait and retry) until a leader is set again.
    public func setLeader(of topic: String, partition: Int32, to leader: Int32) throws(KafkaError) {
        let err = state.withLock { state in
            state.cluster.map { rd_kafka_mock_partition_set_leader($0, topic, partition, leader) }
        }
        guard let err else {
            throw KafkaError(
                code: .configuration, message: "cannot change \(topic)/\(partition): the embedded broker is stopped")
        }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(code: .partition, message: "cannot change \(topic)/\(partition): \(RdKafka.text(err))")
        }
    }

    /// Stops the brokers and closes their ports; clients still connected see them go away.
    /// Further calls do nothing.
    public func stop() {
        state.withLock { state in
            // The cluster goes first; releasing the client then destroys the handle it was attached to.
            if let cluster = state.cluster { rd_kafka_mock_cluster_destroy(cluster) }
            state = (nil, nil)
        }
    }
}
