import CRdKafka

/// Reads chosen partitions from chosen offsets, outside any consumer group: how the daemon restores a partition's
/// customers from its changelog topic, and reads the tail of one to see who wrote it last. Nothing is committed
/// (`enable.auto.commit=false`); the `group.id` librdkafka requires is never joined.
///
/// Threading contract: use an instance from one thread at a time (`@unchecked Sendable` for the same reason as
/// ``KafkaConsumer``).
public final class KafkaPartitionReader: @unchecked Sendable {
    /// Nil once closed.
    private var client: RdKafkaClient?
    private let bootstrapServers: String
    private var topicNames = TopicNames()

    /// A reader on the configuration's cluster (its `groupID` is used only because librdkafka needs one).
    /// `logHandler` receives librdkafka's log lines and client errors (on its threads); without one they go to
    /// stderr.
    public init(configuration: KafkaConfiguration, logHandler: KafkaLogHandler? = nil) throws(KafkaError) {
        bootstrapServers = configuration.bootstrapServers
        var configuration = configuration
        if configuration.groupID == nil { configuration.groupID = "segmenter-partition-reader" }
        let conf = try configuration.makeConf(
            defaults: ["enable.partition.eof": "false", "fetch.wait.max.ms": "10", "auto.offset.reset": "earliest"],
            required: ["enable.auto.commit": "false", "enable.auto.offset.store": "false"]
        )
        // Nothing of this instance is reached from a callback: a reader has no use for client errors but to log them
        // (a failed read throws), and assigns its partitions itself.
        let client = try RdKafkaClient(
            RD_KAFKA_CONSUMER, conf: conf, bootstrapServers: bootstrapServers, callbacks: .init(log: logHandler))
        rd_kafka_poll_set_consumer(client.handle)
        self.client = client
    }

    /// Lets go of the cluster now (deinit would otherwise, maybe after the brokers are gone, and log that they
    /// are). The reader is not used afterwards.
    public func close() {
        guard let client else { return }
        self.client = nil
        // The client destroys the handle when released, after the close.
        withExtendedLifetime(client) { rd_kafka_consumer_close($0.handle) }
    }

    deinit {
        close()
    }

    /// The open handle; a reader is not used after ``close()``.
    private var handle: OpaquePointer {
        guard let client else { preconditionFailure("KafkaPartitionReader used after close()") }
        return client.handle
    }

    /// The partition's low and high watermarks (first offset kept, next offset to be written), asked of its leader.
    ///
    /// Two ListOffsets lookups (earliest, then latest) rather than `rd_kafka_query_watermark_offsets`, which took
    /// ~50 ms a call against the embedded broker where these take ~10 ms for both: a restart checks the tail of
    /// every changelog partition, 64 of them twice, so that was ~6 s of it (issue 25).
    public func watermarks(_ partition: TopicPartition, timeout: Duration) throws(KafkaError)
        -> (low: Int64, high: Int64)
    {
        let deadline = ContinuousClock.now + timeout
        let low = try listOffset(partition, Int64(RD_KAFKA_OFFSET_BEGINNING), timeout: timeout)
        let high = try listOffset(partition, Int64(RD_KAFKA_OFFSET_END), timeout: deadline - ContinuousClock.now)
        return (low, high)
    }

    /// The offset ListOffsets answers for `position` (`RD_KAFKA_OFFSET_BEGINNING`: the first kept,
    /// `RD_KAFKA_OFFSET_END`: the next to be written), through `rd_kafka_offsets_for_times`, whose timestamps -2 and -1
    /// mean exactly those.
    private func listOffset(_ partition: TopicPartition, _ position: Int64, timeout: Duration) throws(KafkaError)
        -> Int64
    {
        let list = RdKafka.makeList(offsets: [partition: position])
        defer { rd_kafka_topic_partition_list_destroy(list) }
        var err = rd_kafka_offsets_for_times(handle, list, RdKafka.milliseconds(timeout))
        let element = list.pointee.elems[0]
        if err == RD_KAFKA_RESP_ERR_NO_ERROR { err = element.err }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, element.offset >= 0 else {
            let reason = err == RD_KAFKA_RESP_ERR_NO_ERROR ? "the leader named no offset" : RdKafka.text(err)
            throw KafkaError(
                code: err == RD_KAFKA_RESP_ERR_NO_ERROR ? .partition : RdKafka.code(err),
                message: "cannot read the offsets of \(partition) from \(bootstrapServers): \(reason)",
                topicPartition: partition)
        }
        return element.offset
    }

    /// Replaces what is read with these partitions, each from its offset.
    public func assign(_ starts: [TopicPartition: Int64]) throws(KafkaError) {
        let list = RdKafka.makeList(offsets: starts)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_assign(handle, starts.isEmpty ? nil : list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(code: RdKafka.code(err), message: "cannot read \(starts.keys): \(RdKafka.text(err))")
        }
    }

    /// Visits up to `max` messages of the assigned partitions: waits up to `timeout` for the first, then takes
    /// what is already fetched. Returns how many it visited; errors other than fatal ones are skipped.
    @discardableResult
    public func poll(max: Int, timeout: Duration, _ body: (KafkaMessageView) throws -> Void) throws -> Int {
        var visited = 0
        var wait = RdKafka.milliseconds(timeout)
        while visited < max, let message = rd_kafka_consumer_poll(handle, wait) {
            wait = 0
            defer { rd_kafka_message_destroy(message) }
            let err = message.pointee.err
            if err == RD_KAFKA_RESP_ERR__FATAL {
                throw KafkaError(
                    code: .fatal,
                    message: "the partition reader failed: \(String(cString: rd_kafka_message_errstr(message)))")
            }
            if err != RD_KAFKA_RESP_ERR_NO_ERROR { continue }
            try body(KafkaMessageView(message, topic: topicNames.name(of: message.pointee.rkt)))
            visited += 1
        }
        return visited
    }

    /// Reads `partition` back from its end in growing windows (`window` messages, then 8 times more each time)
    /// until `pick` finds what it looks for in a window, or the first kept offset is reached. Returns what was found
    /// (nil: nothing) and the partition's high watermark when the search began.
    public func searchBack<T>(
        _ partition: TopicPartition, window: Int64, timeout: Duration, _ pick: ([KafkaMessage]) -> T?
    ) throws -> (found: T?, end: Int64) {
        let (low, high) = try watermarks(partition, timeout: timeout)
        guard high > low else { return (nil, high) }
        var window = window
        while true {
            let from = max(low, high - window)
            if let found = pick(try read(partition, from: from, through: high - 1, timeout: timeout)) {
                return (found, high)
            }
            if from == low { return (nil, high) }
            window *= 8
        }
    }

    /// Every message of `partition` in `[from, through]`, copied, waiting at most `timeout` in all.
    public func read(_ partition: TopicPartition, from: Int64, through: Int64, timeout: Duration) throws
        -> [KafkaMessage]
    {
        guard through >= from else { return [] }
        try assign([partition: from])
        defer { try? assign([:]) }
        var messages: [KafkaMessage] = []
        let deadline = ContinuousClock.now + timeout
        while messages.last.map({ $0.offset < through }) ?? true {
            guard ContinuousClock.now < deadline else {
                throw KafkaError(
                    code: .timeout,
                    message: "reading \(partition) up to offset \(through) took longer than "
                        + timeout.formattedSeconds,
                    topicPartition: partition)
            }
            try poll(max: 10_000, timeout: .milliseconds(100)) { view in
                if view.offset <= through { messages.append(KafkaMessage(view)) }
            }
        }
        return messages
    }
}
