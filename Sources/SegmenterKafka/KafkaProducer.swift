import CRdKafka

/// An idempotent producer whose delivery reports name each message by the caller's `token`, so that
/// an outbox can delete exactly the rows that reached Kafka.
///
/// Defaults: `enable.idempotence=true` (no duplicates or reordering from internal retries) and
/// `linger.ms=5` (batches form without adding visible latency); add e.g. `compression.type=lz4`
/// through `KafkaConfiguration.properties`. Every produced message gets exactly one
/// `DeliveryReport`, successful or not, collected by `pollDeliveries` (and by `flush`).
///
/// Threading contract: use an instance from one thread at a time; delivery reports are gathered on
/// the thread that calls `produce`, `pollDeliveries` or `flush`. That is why the class is
/// `@unchecked Sendable`: it may be handed to another thread, not shared between threads.
public final class KafkaProducer: @unchecked Sendable {
    /// Set once at the end of `init`; implicitly unwrapped only because its callbacks need `self` first.
    private var client: RdKafkaClient!
    var handle: OpaquePointer { client.handle }
    private var topics: [String: OpaquePointer] = [:]
    private var topicNames = TopicNames()
    private var reports: [DeliveryReport] = []
    private var fatalError: KafkaError?
    private let errorHandler: ((KafkaError) -> Void)?

    /// Creates the producer; nothing is contacted until the first message (use `waitForBrokers`).
    /// - Parameters:
    ///   - errorHandler: receives non-fatal client errors (a broker down, all brokers down, timeouts) on the
    ///     thread serving delivery reports; fatal errors are thrown by the next call instead.
    ///   - logHandler: receives librdkafka's log lines (on its threads); without one they go to stderr.
    public init(
        configuration: KafkaConfiguration, errorHandler: ((KafkaError) -> Void)? = nil,
        logHandler: KafkaLogHandler? = nil
    ) throws(KafkaError) {
        self.errorHandler = errorHandler
        let conf = try configuration.makeConf(
            defaults: ["enable.idempotence": "true", "linger.ms": "5"], required: [:]
        )
        // Both run on the thread inside `produce`, `pollDeliveries` or `flush`, which owns this instance: see the
        // class's threading contract. Weak, because the client is released after this instance's deinit has begun.
        client = try RdKafkaClient(
            RD_KAFKA_PRODUCER, conf: conf, bootstrapServers: configuration.bootstrapServers,
            callbacks: .init(
                log: logHandler,
                error: { [weak self] err, reason in self?.clientError(err, reason) },
                delivery: { [weak self] message in self?.delivered(message) }))
    }

    deinit {
        // Topic handles go before the client destroys the handle they belong to.
        for topic in topics.values { rd_kafka_topic_destroy(topic) }
    }

    /// Fails with a `.unreachable` error unless a broker answers a metadata request within `timeout`.
    public func waitForBrokers(timeout: Duration) throws(KafkaError) {
        try client.waitForBrokers(timeout: timeout)
    }

    /// Queues one message; key, value and headers are copied, so the buffers need only live for the
    /// call. When librdkafka's queue is full this serves delivery reports and retries rather than
    /// failing (the queue drains as messages are delivered or time out after `message.timeout.ms`).
    /// - Parameters:
    ///   - partition: a fixed partition, or `nil` to let the partitioner choose from the key.
    ///   - timestamp: milliseconds since the epoch, or `nil` for now.
    ///   - token: returned in this message's `DeliveryReport`.
    public func produce(
        topic: String, partition: Int32? = nil, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer,
        headers: [KafkaHeader] = [], timestamp: Int64? = nil, token: UInt64
    ) throws(KafkaError) {
        if let fatalError { throw fatalError }
        let topicHandle = try self.topicHandle(topic)
        let cHeaders = makeHeaders(headers)
        let opaque = UnsafeMutableRawPointer(bitPattern: UInt(token))
        while true {
            let err = segmenter_produce(
                handle, topicHandle, partition ?? RD_KAFKA_PARTITION_UA,
                key?.baseAddress, key?.count ?? 0, value.baseAddress, value.count,
                cHeaders, timestamp ?? 0, opaque
            )
            if err == RD_KAFKA_RESP_ERR_NO_ERROR { return }
            if err == RD_KAFKA_RESP_ERR__QUEUE_FULL {
                rd_kafka_poll(handle, 10)
                continue
            }
            if let cHeaders { rd_kafka_headers_destroy(cHeaders) }
            let place = partition.map { "\(topic)/\($0)" } ?? topic
            throw KafkaError(
                code: RdKafka.code(err), message: "cannot produce to \(place): \(RdKafka.text(err))",
                topicPartition: partition.map { TopicPartition(topic: topic, partition: $0) }
            )
        }
    }

    /// Queues one message from byte arrays; see the buffer form.
    public func produce(
        topic: String, partition: Int32? = nil, key: [UInt8]?, value: [UInt8],
        headers: [KafkaHeader] = [], timestamp: Int64? = nil, token: UInt64
    ) throws(KafkaError) {
        let result = value.withUnsafeBytes { valueBytes in
            let produceWithKey = { (keyBytes: UnsafeRawBufferPointer?) in
                Result { () throws(KafkaError) in
                    try self.produce(
                        topic: topic, partition: partition, key: keyBytes, value: valueBytes,
                        headers: headers, timestamp: timestamp, token: token)
                }
            }
            guard let key else { return produceWithKey(nil) }
            return key.withUnsafeBytes { produceWithKey($0) }
        }
        try result.get()
    }

    /// Serves delivery reports, waiting up to `timeout` for the first, and returns all gathered since
    /// the last call (including those gathered by `produce` and `flush`).
    public func pollDeliveries(timeout: Duration) -> [DeliveryReport] {
        if reports.isEmpty { rd_kafka_poll(handle, RdKafka.milliseconds(timeout)) }
        while rd_kafka_poll(handle, 0) > 0 {}
        defer { reports.removeAll(keepingCapacity: true) }
        return reports
    }

    /// Messages produced but not yet reported (queued, in flight, or awaiting their report).
    public var pendingCount: Int { Int(rd_kafka_outq_len(handle)) }

    /// Waits up to `timeout` until every queued message is delivered or failed; their reports are
    /// then available from `pollDeliveries`. Throws `.timeout` when messages remain.
    public func flush(timeout: Duration) throws(KafkaError) {
        let err = rd_kafka_flush(handle, RdKafka.milliseconds(timeout))
        if let fatalError { throw fatalError }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(
                code: .timeout,
                message: "\(pendingCount) messages still undelivered after \(timeout.formattedSeconds): "
                    + "check that the brokers at \(client.bootstrapServers) are up"
            )
        }
    }

    private func topicHandle(_ topic: String) throws(KafkaError) -> OpaquePointer {
        if let known = topics[topic] { return known }
        guard let created = rd_kafka_topic_new(handle, topic, nil) else {
            let err = rd_kafka_last_error()
            throw KafkaError(code: .unknownTopic, message: "cannot use topic \"\(topic)\": \(RdKafka.text(err))")
        }
        topics[topic] = created
        return created
    }

    private func makeHeaders(_ headers: [KafkaHeader]) -> OpaquePointer? {
        if headers.isEmpty { return nil }
        let cHeaders = rd_kafka_headers_new(headers.count)!
        for header in headers {
            if let value = header.value {
                value.withUnsafeBytes { _ = rd_kafka_header_add(cHeaders, header.key, -1, $0.baseAddress, $0.count) }
            } else {
                rd_kafka_header_add(cHeaders, header.key, -1, nil, 0)
            }
        }
        return cHeaders
    }

    private func delivered(_ message: UnsafePointer<rd_kafka_message_t>) {
        let err = message.pointee.err
        let topic = topicNames.name(of: message.pointee.rkt)
        var error: KafkaError?
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            let partition = message.pointee.partition
            error = KafkaError(
                code: err == RD_KAFKA_RESP_ERR__FATAL ? .fatal : .delivery,
                message: "message not delivered to \(topic): \(RdKafka.text(err))",
                topicPartition: partition < 0 ? nil : TopicPartition(topic: topic, partition: partition)
            )
        }
        reports.append(
            DeliveryReport(
                token: UInt64(UInt(bitPattern: message.pointee._private)),
                topic: topic, partition: message.pointee.partition, offset: message.pointee.offset, error: error
            ))
    }

    private func clientError(_ err: rd_kafka_resp_err_t, _ reason: String) {
        guard err == RD_KAFKA_RESP_ERR__FATAL else {
            errorHandler?(KafkaError(code: RdKafka.code(err), message: reason))
            return
        }
        fatalError = KafkaError(
            code: .fatal, message: "the producer failed and must be recreated: \(client.fatalReason(reason))")
    }
}
