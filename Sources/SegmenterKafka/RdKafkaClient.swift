import CRdKafka

/// The one owner of a librdkafka handle (`rd_kafka_t`): it creates the handle from a validated configuration with
/// every callback installed here, once, and destroys it when released. `KafkaConsumer`, `KafkaProducer`,
/// `KafkaPartitionReader` and `EmbeddedBroker` each hold one and say what their role hears through ``Callbacks``;
/// nothing else calls `rd_kafka_new` or installs a callback (as swift-kafka-client's `RDKafkaClient`).
///
/// C callbacks capture nothing: librdkafka is handed an unretained pointer to the client's ``Callbacks`` box as the
/// handle's opaque, and the box lives exactly as long as the handle (the client destroys the handle first).
///
/// Threads: librdkafka calls back either on its own threads (log lines only) or on the thread that serves the
/// handle's queue — inside `rd_kafka_poll`/`rd_kafka_flush` for a producer, inside `rd_kafka_consumer_poll` or a
/// close for a consumer (its main queue is forwarded to the consumer queue). Each callback's doc says which.
/// `@unchecked Sendable` for the same reason as its owners: it may move between threads, not be shared by them.
final class RdKafkaClient: @unchecked Sendable {
    /// What one role hears from librdkafka. A callback that is nil is not installed (librdkafka's default applies),
    /// except `error`, which then becomes a log line.
    struct Callbacks {
        /// librdkafka's log lines. Runs on librdkafka's own threads, concurrently, so it is `@Sendable` and may
        /// touch only thread-safe state. Nil: librdkafka prints them to stderr.
        var log: KafkaLogHandler?
        /// Client errors (a broker down, all brokers down, a fatal error) with librdkafka's reason. Runs on the
        /// thread serving the handle's queue (see the type's doc), which owns what it touches. Nil: the error is
        /// handed to `log` as a line at level 3, facility `ERROR`, as librdkafka would print it.
        var error: ((rd_kafka_resp_err_t, String) -> Void)?
        /// A statistics document (JSON; librdkafka frees it after the call), every `statistics.interval.ms`. Runs on
        /// the thread serving the handle's queue.
        var statistics: ((UnsafeRawBufferPointer) -> Void)?
        /// A consumer's assign or revoke, which the callback must complete (assign or unassign). Runs on the
        /// thread inside `rd_kafka_consumer_poll` (a close serves it as an event on its own queue instead).
        var rebalance: ((rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> Void)?
        /// One produced message's delivery report. Runs on the thread inside `rd_kafka_poll` or `rd_kafka_flush`.
        var delivery: ((UnsafePointer<rd_kafka_message_t>) -> Void)?

        init(
            log: KafkaLogHandler? = nil, error: ((rd_kafka_resp_err_t, String) -> Void)? = nil,
            statistics: ((UnsafeRawBufferPointer) -> Void)? = nil,
            rebalance: ((rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> Void)? = nil,
            delivery: ((UnsafePointer<rd_kafka_message_t>) -> Void)? = nil
        ) {
            self.log = log
            self.error = error
            self.statistics = statistics
            self.rebalance = rebalance
            self.delivery = delivery
        }
    }

    /// What librdkafka's opaque points at; immutable once the handle exists.
    private final class Box {
        let callbacks: Callbacks
        init(_ callbacks: Callbacks) { self.callbacks = callbacks }
    }

    let handle: OpaquePointer
    let bootstrapServers: String
    private let box: Box
    /// Set by ``abandon()``: the handle is then never destroyed.
    private var abandoned = false

    /// Creates the handle from `conf` (a configuration from `KafkaConfiguration.makeConf`, which librdkafka takes
    /// on success and which is freed on failure) with `callbacks` installed.
    init(_ type: rd_kafka_type_t, conf: OpaquePointer, bootstrapServers: String, callbacks: Callbacks)
        throws(KafkaError)
    {
        self.bootstrapServers = bootstrapServers
        box = Box(callbacks)
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(box).toOpaque())
        Self.install(callbacks, on: conf)
        var errorText = [CChar](repeating: 0, count: 512)
        guard let handle = rd_kafka_new(type, conf, &errorText, errorText.count) else {
            rd_kafka_conf_destroy(conf)
            let reason = RdKafka.string(errorText)
            throw KafkaError(code: .configuration, message: "cannot create the Kafka client: \(reason)")
        }
        self.handle = handle
    }

    deinit {
        if !abandoned { rd_kafka_destroy(handle) }
    }

    /// Leaves the handle to the end of the process instead of destroying it: destroying waits for an unfinished
    /// consumer close for as long as the brokers are away.
    func abandon() {
        abandoned = true
    }

    /// Fails with a `.unreachable` error unless a broker answers a metadata request within `timeout`.
    func waitForBrokers(timeout: Duration) throws(KafkaError) {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(handle, 0, nil, &metadata, RdKafka.milliseconds(timeout))
        if let metadata { rd_kafka_metadata_destroy(metadata) }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(
                code: .unreachable,
                message: "cannot reach broker \(bootstrapServers) within \(timeout.formattedSeconds): "
                    + "check kafka.bootstrap_servers (\(RdKafka.text(err)))"
            )
        }
    }

    /// The value librdkafka runs with for property `name` (defaults included), or nil when it has none.
    func property(_ name: String) -> String? {
        guard let conf = rd_kafka_conf(handle) else { return nil }
        var size = 0
        guard rd_kafka_conf_get(conf, name, nil, &size) == RD_KAFKA_CONF_OK, size > 0 else { return nil }
        var value = [CChar](repeating: 0, count: size)
        guard rd_kafka_conf_get(conf, name, &value, &size) == RD_KAFKA_CONF_OK else { return nil }
        return RdKafka.string(value)
    }

    /// librdkafka's text for the fatal error that made the client unusable, or `fallback` when there is none.
    func fatalReason(_ fallback: String) -> String {
        var text = [CChar](repeating: 0, count: 512)
        let err = rd_kafka_fatal_error(handle, &text, text.count)
        return err == RD_KAFKA_RESP_ERR_NO_ERROR ? fallback : RdKafka.string(text)
    }

    /// The box behind a handle's opaque; callers reach one callback through it, so that no per-call copy of
    /// every callback is made (delivery reports arrive once per message).
    private static func box(_ opaque: UnsafeMutableRawPointer) -> Box {
        Unmanaged<Box>.fromOpaque(opaque).takeUnretainedValue()
    }

    private static func install(_ callbacks: Callbacks, on conf: OpaquePointer) {
        if callbacks.log != nil {
            rd_kafka_conf_set_log_cb(conf) { handle, level, facility, text in
                guard let handle, let opaque = rd_kafka_opaque(handle) else { return }
                RdKafkaClient.box(opaque).callbacks.log?(KafkaLogLine(
                    level: level, facility: facility.map { String(cString: $0) } ?? "",
                    message: text.map { String(cString: $0) } ?? ""))
            }
        }
        if callbacks.error != nil || callbacks.log != nil {
            rd_kafka_conf_set_error_cb(conf) { _, err, reason, opaque in
                guard let opaque else { return }
                let callbacks = RdKafkaClient.box(opaque).callbacks
                let text = reason.map { String(cString: $0) } ?? ""
                if let error = callbacks.error {
                    error(rd_kafka_resp_err_t(err), text)
                } else {
                    callbacks.log?(KafkaLogLine(level: 3, facility: "ERROR", message: text))
                }
            }
        }
        if callbacks.statistics != nil {
            rd_kafka_conf_set_stats_cb(conf) { _, json, length, opaque in
                guard let json, let opaque else { return 0 }
                RdKafkaClient.box(opaque).callbacks.statistics?(UnsafeRawBufferPointer(start: json, count: length))
                return 0  // librdkafka frees the document
            }
        }
        if callbacks.rebalance != nil {
            rd_kafka_conf_set_rebalance_cb(conf) { _, err, partitions, opaque in
                guard let partitions, let opaque else { return }
                RdKafkaClient.box(opaque).callbacks.rebalance?(err, partitions)
            }
        }
        if callbacks.delivery != nil {
            rd_kafka_conf_set_dr_msg_cb(conf) { _, message, opaque in
                guard let message, let opaque else { return }
                RdKafkaClient.box(opaque).callbacks.delivery?(message)
            }
        }
    }
}
