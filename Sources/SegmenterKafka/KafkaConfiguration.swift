import CRdKafka

/// How to reach and talk to Kafka: the common settings typed, everything else passed through to
/// librdkafka by its own property name (TLS, SASL, tuning; see librdkafka's CONFIGURATION.md).
///
/// Nothing is checked when the struct is built; `KafkaConsumer` and `KafkaProducer` validate every
/// property once, at construction, and throw a `KafkaError` with librdkafka's own text naming it.
public struct KafkaConfiguration: Sendable, Hashable {
    /// Comma-separated `host:port` list of brokers to bootstrap from (`bootstrap.servers`).
    /// Default: none, it must be given.
    public var bootstrapServers: String
    /// Consumer group id (`group.id`); required by `KafkaConsumer`, ignored by `KafkaProducer`.
    /// Default: `nil`.
    public var groupID: String?
    /// Client id shown in broker logs and metrics (`client.id`). Default: `"segmenter"`.
    public var clientID: String
    /// Any other librdkafka property by name; these win over the wrapper's defaults but not over the
    /// few settings the wrapper depends on (those are rejected with an explanation). Default: empty.
    public var properties: [String: String]

    public init(
        bootstrapServers: String,
        groupID: String? = nil,
        clientID: String = "segmenter",
        properties: [String: String] = [:]
    ) {
        self.bootstrapServers = bootstrapServers
        self.groupID = groupID
        self.clientID = clientID
        self.properties = properties
    }

    /// Builds and validates a librdkafka configuration: `defaults` first, then the typed fields, then
    /// `properties`, then `required`, which a pass-through property may not contradict.
    /// The caller owns the returned `rd_kafka_conf_t` (until `rd_kafka_new` takes it).
    func makeConf(defaults: [String: String], required: [String: String]) throws(KafkaError) -> OpaquePointer {
        for (name, value) in required {
            if let given = properties[name], given != value {
                throw KafkaError(
                    code: .configuration,
                    message: "kafka property \(name)=\(given) is not supported: Segmenter needs \(name)=\(value)"
                )
            }
        }
        let conf = rd_kafka_conf_new()!
        var settings = defaults.sorted { $0.key < $1.key }
        settings.append(("bootstrap.servers", bootstrapServers))
        settings.append(("client.id", clientID))
        if let groupID { settings.append(("group.id", groupID)) }
        settings += properties.sorted { $0.key < $1.key }
        settings += required.sorted { $0.key < $1.key }
        var errorText = [CChar](repeating: 0, count: 512)
        for (name, value) in settings {
            let result = rd_kafka_conf_set(conf, name, value, &errorText, errorText.count)
            if result != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                let reason = RdKafka.string(errorText)
                throw KafkaError(code: .configuration, message: "invalid kafka property \(name)=\(value): \(reason)")
            }
        }
        return conf
    }
}
