import CRdKafka

/// A consumer-group member with manual offsets: the daemon's way in from Kafka.
///
/// `poll(max:timeout:_:)` visits a whole batch of messages in one call without copying them, so the
/// per-message cost stays at librdkafka's. Offsets are never committed or stored automatically
/// (`enable.auto.commit=false`, `enable.auto.offset.store=false`): the owner commits what it has
/// durably processed. Rebalances reach the owner synchronously through a `KafkaRebalanceListener`.
///
/// Assignment is cooperative-sticky by default: on a rebalance only the partitions that move are
/// revoked (the listener hears just those) and the others keep flowing. Eager assignment would
/// settle faster on the embedded broker (~5 s vs ~10 s for a second member), but it revokes
/// everything while the group is already rebalancing, and the mock broker then refuses the owner's
/// commit in `partitionsRevoked` (`REBALANCE_IN_PROGRESS`), so the next owner re-reads messages.
/// Cooperative revokes after the group has settled, where the commit is accepted; and it spares the
/// stop-the-world pause. Eager (`range`/`roundrobin` via `properties`) also works: the listener then
/// hears about every partition on every rebalance.
///
/// Threading contract: use an instance from one thread at a time. The listener and `errorHandler`
/// run on the thread that is inside `poll` or `close`. That is why the class is `@unchecked Sendable`:
/// it may be handed to another thread, not shared between threads.
public final class KafkaConsumer: @unchecked Sendable {
    /// Set once at the end of `init`; implicitly unwrapped only because its callbacks need `self` first.
    private var client: RdKafkaClient!
    private var handle: OpaquePointer { client.handle }
    private weak var rebalanceListener: (any KafkaRebalanceListener)?
    private let errorHandler: ((KafkaError) -> Void)?
    private var topicNames = TopicNames()
    private var fatalError: KafkaError?
    private var closed = false
    private var closedCleanly = false
    /// Whether the group's rebalance protocol is cooperative, as last reported by librdkafka.
    private var cooperative = true
    /// Brokers this member is connected to, as of librdkafka's last statistics (set `statistics.interval.ms`, e.g.
    /// 1000; nil until the first report, and always without statistics).
    public private(set) var brokerHealth: BrokerHealth?

    /// Creates the consumer; nothing is contacted until `subscribe` (use `waitForBrokers` to check).
    /// - Parameters:
    ///   - configuration: must have a `groupID`. Defaults: `auto.offset.reset=earliest`,
    ///     `partition.assignment.strategy=cooperative-sticky`.
    ///   - rebalanceListener: told about revoked and assigned partitions; held weakly.
    ///   - errorHandler: receives non-fatal errors (per partition, per connection, transient, and
    ///     partition EOF if enabled) on the polling thread; fatal errors are thrown by `poll` instead.
    ///   - logHandler: receives librdkafka's log lines (on its threads); without one they go to stderr.
    public init(
        configuration: KafkaConfiguration,
        rebalanceListener: (any KafkaRebalanceListener)?,
        errorHandler: ((KafkaError) -> Void)? = nil,
        logHandler: KafkaLogHandler? = nil
    ) throws(KafkaError) {
        guard configuration.groupID != nil else {
            throw KafkaError(
                code: .configuration,
                message: "a Kafka consumer needs a group id: set kafka.group_id (KafkaConfiguration.groupID)"
            )
        }
        self.rebalanceListener = rebalanceListener
        self.errorHandler = errorHandler
        let conf = try configuration.makeConf(
            defaults: ["auto.offset.reset": "earliest", "partition.assignment.strategy": "cooperative-sticky"],
            required: ["enable.auto.commit": "false", "enable.auto.offset.store": "false"]
        )
        // All three run on the thread inside `poll` (or `close`), which owns this instance: see the class's
        // threading contract. Weak, because the client is released after this instance's deinit has begun.
        client = try RdKafkaClient(
            RD_KAFKA_CONSUMER, conf: conf, bootstrapServers: configuration.bootstrapServers,
            callbacks: .init(
                log: logHandler,
                error: { [weak self] err, reason in self?.clientError(err, reason) },
                statistics: { [weak self] json in
                    if let health = BrokerHealth.parse(statistics: json) { self?.brokerHealth = health }
                },
                rebalance: { [weak self] err, partitions in self?.rebalance(err, partitions) }))
        rd_kafka_poll_set_consumer(handle)
    }

    deinit {
        // `client` is nil when `init` threw before creating it.
        guard let client else { return }
        rebalanceListener = nil
        // A bounded close, as `close(timeout:)` does: librdkafka's blocking close has been seen to wait forever in
        // the final cooperative revoke (its incremental unassign never answered) on a loaded machine.
        if !closed { try? close(timeout: .seconds(10)) }
        // After a close that gave up, destroying would wait for the unfinished close for as long as the brokers
        // are away: the handle is left to the end of the process instead (a close gives up only on shutdown).
        if closed && !closedCleanly { client.abandon() }
    }

    /// Fails with a `.unreachable` error unless a broker answers a metadata request within `timeout`.
    public func waitForBrokers(timeout: Duration) throws(KafkaError) {
        try client.waitForBrokers(timeout: timeout)
    }

    /// The value librdkafka runs this consumer with for property `name` (its defaults included), e.g.
    /// `group.instance.id`; nil when it has none.
    public func effectiveProperty(_ name: String) -> String? {
        client.property(name)
    }

    /// Joins the group for these topics (replacing any previous subscription). Partitions arrive
    /// through the rebalance listener during later `poll` calls.
    public func subscribe(topics: [String]) throws(KafkaError) {
        let list = RdKafka.makeList(topics.map { TopicPartition(topic: $0, partition: RD_KAFKA_PARTITION_UA) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_subscribe(handle, list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(
                code: RdKafka.code(err),
                message: "cannot subscribe to \(topics.joined(separator: ", ")): \(RdKafka.text(err))"
            )
        }
    }

    /// Visits up to `max` messages: waits up to `timeout` for the first, then takes only what is
    /// already fetched. Rebalance callbacks and error reports happen inside this call.
    /// - Returns: how many messages `body` was given.
    /// - Throws: what `body` throws (the message it threw for is not counted), or a `.fatal`
    ///   `KafkaError` when the consumer is unusable.
    @discardableResult
    public func poll(max: Int, timeout: Duration, _ body: (KafkaMessageView) throws -> Void) throws -> Int {
        if let fatalError { throw fatalError }
        var visited = 0
        var wait = RdKafka.milliseconds(timeout)
        while visited < max, let message = rd_kafka_consumer_poll(handle, wait) {
            wait = 0
            defer { rd_kafka_message_destroy(message) }
            if message.pointee.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                try messageError(message)
                continue
            }
            try body(KafkaMessageView(message, topic: topicNames.name(of: message.pointee.rkt)))
            visited += 1
        }
        if let fatalError { throw fatalError }
        return visited
    }

    /// Up to `max` messages copied out of librdkafka (allocates per message; the hot path is the
    /// closure form).
    public func poll(max: Int, timeout: Duration) throws -> [KafkaMessage] {
        var messages: [KafkaMessage] = []
        try poll(max: max, timeout: timeout) { messages.append(KafkaMessage($0)) }
        return messages
    }

    /// Commits the NEXT offset to read for each partition (last processed + 1). Synchronous by default; with
    /// `async` it only queues the commit and returns — it then never blocks, even while the group coordinator is
    /// unreachable (a synchronous commit waits for it), and a failure is not reported.
    public func commit(_ offsets: [TopicPartition: Int64], async: Bool = false) throws(KafkaError) {
        if offsets.isEmpty { return }
        let list = RdKafka.makeList(offsets: offsets)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_commit(handle, list, async ? 1 : 0)
        if async, err == RD_KAFKA_RESP_ERR_NO_ERROR { return }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(code: .commit, message: "cannot commit offsets: \(RdKafka.text(err))")
        }
        if let (partition, err) = RdKafka.firstError(list) {
            throw KafkaError(
                code: .commit, message: "cannot commit the offset of \(partition): \(RdKafka.text(err))",
                topicPartition: partition
            )
        }
    }

    /// Stops fetching these assigned partitions until ``resume(_:)``; what was fetched and not yet delivered is
    /// dropped, and fetching resumes from the next offset to deliver.
    public func pause(_ partitions: [TopicPartition]) {
        let list = RdKafka.makeList(partitions)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        reportAssignError(rd_kafka_pause_partitions(handle, list))
    }

    /// Moves where assigned partitions are consumed from (e.g. paused ones, before ``resume(_:)``).
    public func seek(_ offsets: [TopicPartition: Int64]) {
        guard !offsets.isEmpty else { return }
        let list = RdKafka.makeList(offsets: offsets)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        if let error = rd_kafka_seek_partitions(handle, list, 5_000) {
            errorHandler?(RdKafka.consume(error, "cannot move to the restored offsets"))
        }
    }

    /// Fetches paused partitions again.
    public func resume(_ partitions: [TopicPartition]) {
        let list = RdKafka.makeList(partitions)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        reportAssignError(rd_kafka_resume_partitions(handle, list))
    }

    /// The partitions currently assigned to this member (empty before the first assignment).
    public func assignment() -> [TopicPartition] {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        guard rd_kafka_assignment(handle, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return [] }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        return RdKafka.partitions(list)
    }

    /// Lag per partition: high watermark minus the given next offset, never negative.
    ///
    /// Uses librdkafka's cached watermarks (`rd_kafka_get_watermark_offsets`), which every fetch
    /// response refreshes for assigned, fetching partitions: no network round trip, so it is cheap
    /// enough for every batch. Partitions with no cached watermark yet (not fetched since assignment)
    /// are left out; for a paused partition the value is as old as its last fetch.
    public func lag(for nextOffsets: [TopicPartition: Int64]) -> [TopicPartition: Int64] {
        var lags: [TopicPartition: Int64] = [:]
        for (partition, next) in nextOffsets {
            var low: Int64 = -1
            var high: Int64 = -1
            let err = rd_kafka_get_watermark_offsets(handle, partition.topic, partition.partition, &low, &high)
            if err == RD_KAFKA_RESP_ERR_NO_ERROR, high >= 0 {
                lags[partition] = Swift.max(0, high - next)
            }
        }
        return lags
    }

    /// Leaves the group: the listener's `partitionsRevoked` runs (so the owner can commit), then the
    /// consumer stops. Gives up after `timeout` — e.g. while no broker is reachable, when leaving would
    /// wait for a coordinator that does not answer — and throws `.timeout`; the group then notices the
    /// member is gone after its session timeout. Further calls do nothing.
    public func close(timeout: Duration = .seconds(30)) throws(KafkaError) {
        if closed { return }
        closed = true
        let queue = rd_kafka_queue_new(handle)
        defer { rd_kafka_queue_destroy(queue) }
        if let error = rd_kafka_consumer_close_queue(handle, queue) {
            throw RdKafka.consume(error, "cannot close the consumer cleanly")
        }
        let deadline = ContinuousClock.now + timeout
        while rd_kafka_consumer_closed(handle) == 0 {
            guard ContinuousClock.now < deadline else {
                throw KafkaError(
                    code: .timeout,
                    message: "the consumer did not leave its group within \(timeout.formattedSeconds): "
                        + "check that the brokers at \(client.bootstrapServers) are up")
            }
            // The final revoke arrives as an event on this queue; it goes to the same handler as the callback.
            guard let event = rd_kafka_queue_poll(queue, 100) else { continue }
            defer { rd_kafka_event_destroy(event) }
            if rd_kafka_event_type(event) == RD_KAFKA_EVENT_REBALANCE,
               let partitions = rd_kafka_event_topic_partition_list(event)
            {
                rebalance(rd_kafka_event_error(event), partitions)
            }
        }
        closedCleanly = true
    }

    /// A consumed "message" that is really an event: fatal errors throw, the rest go to the handler.
    private func messageError(_ message: UnsafeMutablePointer<rd_kafka_message_t>) throws(KafkaError) {
        let err = message.pointee.err
        let reason = String(cString: rd_kafka_message_errstr(message))
        var partition: TopicPartition?
        if message.pointee.rkt != nil {
            partition = TopicPartition(
                topic: topicNames.name(of: message.pointee.rkt), partition: message.pointee.partition)
        }
        let place = partition.map { " on \($0)" } ?? ""
        if err == RD_KAFKA_RESP_ERR__FATAL {
            throw KafkaError(code: .fatal, message: "the consumer failed\(place): \(fatalText(reason))")
        }
        let error = KafkaError(
            code: RdKafka.code(err), message: "consume error\(place): \(reason)", topicPartition: partition)
        errorHandler?(error)
    }

    private func clientError(_ err: rd_kafka_resp_err_t, _ reason: String) {
        if err == RD_KAFKA_RESP_ERR__FATAL {
            fatalError = KafkaError(code: .fatal, message: "the consumer failed: \(fatalText(reason))")
        } else {
            let code = RdKafka.code(err)
            let hint = code == .unreachable ? ": check kafka.bootstrap_servers (\(client.bootstrapServers))" : ""
            errorHandler?(KafkaError(code: code, message: reason + hint))
        }
    }

    /// librdkafka's reason for a fatal error, and what to do when it is one a user can fix.
    private func fatalText(_ fallback: String) -> String {
        let reason = client.fatalReason(fallback)
        guard rd_kafka_fatal_error(handle, nil, 0) == RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID else { return reason }
        return reason + ": another consumer joined the group with the same group.instance.id; give each instance "
            + "its own data directory (or its own kafka.group_instance_id) and restart this one"
    }

    private func rebalance(_ err: rd_kafka_resp_err_t, _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {
        // The protocol is unknown (NULL) while the consumer closes: the last one seen still applies.
        if let name = rd_kafka_rebalance_protocol(handle) { cooperative = String(cString: name) == "COOPERATIVE" }
        let partitions = RdKafka.partitions(list)
        switch err {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            let starts = rebalanceListener?.partitionsAssigned(partitions) ?? [:]
            for index in RdKafka.elements(list).indices {
                if let start = starts[partitions[index]] { list.pointee.elems[index].offset = start }
            }
            if cooperative {
                if let error = rd_kafka_incremental_assign(handle, list) {
                    errorHandler?(RdKafka.consume(error, "cannot take the assigned partitions"))
                }
            } else {
                reportAssignError(rd_kafka_assign(handle, list))
            }
            if let held = rebalanceListener?.partitionsToHold(partitions), !held.isEmpty { pause(held) }
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            rebalanceListener?.partitionsRevoked(partitions)
            if cooperative {
                if let error = rd_kafka_incremental_unassign(handle, list) {
                    errorHandler?(RdKafka.consume(error, "cannot give up the revoked partitions"))
                }
            } else {
                reportAssignError(rd_kafka_assign(handle, nil))
            }
        default:
            errorHandler?(KafkaError(code: RdKafka.code(err), message: "rebalance failed: \(RdKafka.text(err))"))
            reportAssignError(rd_kafka_assign(handle, nil))
        }
    }

    private func reportAssignError(_ err: rd_kafka_resp_err_t) {
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            errorHandler?(
                KafkaError(code: RdKafka.code(err), message: "cannot change the assignment: \(RdKafka.text(err))"))
        }
    }
}
