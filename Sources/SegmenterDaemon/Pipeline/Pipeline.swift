import Foundation
import Logging
import SegmenterCore
import SegmenterKafka
import SegmenterStore

/// The daemon's loop (DESIGN §1): poll → decode → the ``SegmentationEngine`` → ONE SQLite transaction with the
/// customers, the outbox, the model, the engine's progress and the next offsets → publish the outbox → commit
/// offsets to Kafka. The transaction and the publishing run on a second thread (the ``BatchCommitter``) while this
/// one applies the next batch: two stages for two cores, one batch in flight, the same order per batch.
///
/// The loop only moves data between its parts, each with one job: the ``DataDirectory`` (lock, store, stored
/// model), the engine (every decision; the same one `replay` runs), the ``CustomerWorkingSet`` (cache and this
/// batch's changes), ``PartitionOffsets``, the ``BatchCommitter`` with the ``OutboxPublisher`` (delivery tracking
/// and backoff) and ``OperatorCommands``. Batches decide only when things become durable, never what the engine emits.
///
/// SQLite is the source of truth: on every assignment the consumer starts from the offsets stored with the state,
/// so an event's effect and its offset become durable together and a `kill -9` at any moment neither loses nor
/// doubles an event. Segment changes and dead letters go through the outbox, so they are published at least
/// once, with deterministic ids. Runs on one dedicated thread (plus the committer's): nothing here is awaited per
/// message.
public final class Pipeline: KafkaRebalanceListener, @unchecked Sendable {
    let configuration: SegmenterConfiguration
    let logger: Logger
    public let status: PipelineStatusBoard
    let dataDirectory: DataDirectory
    private var store: StateStore { dataDirectory.store }
    /// Created last in `init`, because it holds this pipeline (weakly) as its rebalance listener.
    private var source: (any EventSource)!
    private let sink: any OutboxSink
    private let decoder: EventDecoder
    var engine: SegmentationEngine
    var customers: CustomerWorkingSet
    private var offsets = PartitionOffsets()
    /// The changelog topic's writer and restorer; nil when `kafka.topics.changelog` is off (or in tests on fakes).
    private let changelog: ChangelogSync?
    /// The model topic's reader and this instance's role in it; nil when `kafka.topics.model` is off.
    let groupModel: GroupModelSync?
    /// Makes sure the changelog topic exists with the input's partition count, and the model topic exists (run once
    /// the brokers answer).
    private let ensureTopics: (() throws -> Void)?
    /// Customers of restored partitions, and the rows that settle their changelog, for the next batch.
    private var restored: [StoredCustomer] = []
    private var settlingRows: [OutboxMessage] = []
    /// Restored partitions waiting for the batch that stores them; resumed once it has committed.
    private var restoredPartitions: [TopicPartition] = []
    private var restoreStarted: [Int32: ContinuousClock.Instant] = [:]
    /// While partitions are restoring: when `segmenter_restore_seconds` was last brought up to date.
    private var restoreClock: ContinuousClock.Instant?
    private let committer: BatchCommitter
    private let commands = OperatorCommands()
    var batch = StoreBatch()
    /// The batch's outbox rows in order (changes are rendered by the committer).
    var entries: [BatchCommitter.Entry] = []
    /// Erased ids whose later events are dropped (`privacy.suppress_erased`; see `Pipeline+Erasure.swift`).
    var suppression: Suppression
    /// Anonymous id → known id (see `Pipeline+Identity.swift`).
    var identities: IdentityMap
    /// The messages of the current poll, decoded, waiting to be applied once their customers are loaded.
    private var staged: [StagedMessage] = []
    /// The status of the batch in flight, published once it has committed.
    private var pendingStatus: StatusUpdate?
    /// When start-up reached each step, for the one log line that tells restart time apart from the group join.
    private var startup = Startup()
    private var batchMessages = 0
    private var batchStarted: ContinuousClock.Instant?
    private var savedModelVersion: Int64
    /// An operator command or an adopted group model changed the model: the next batch stores it.
    var modelChangedBetweenBatches = false
    var counters = Counters()
    private var lastKafkaCommit = ContinuousClock.now
    private var lastStatusRefresh = ContinuousClock.now - .seconds(10)
    private var lastIdleSweep = ContinuousClock.now
    private var fatal: Error?
    /// Set while leaving the group at shutdown, whose revocation keeps the state for the next start.
    private var closing = false
    /// Revoked partitions whose state this store still holds, since when: dropped once another instance has written
    /// their changelog, forgotten after ``movedAwayWatch``.
    private var movedAwayCandidates: [Int32: ContinuousClock.Instant] = [:]
    private var nextMovedAwayCheck = ContinuousClock.now
    static let movedAwayWatch = Duration.seconds(600)
    /// Set by `stop()` from any thread. A lock-guarded Bool, not an `Atomic`: a noncopyable stored property in this
    /// class's throwing init crashes the Swift 6.3.1 optimiser in release builds.
    private var stopFlag = false
    private let stopLock = NSLock()
    private var stopRequested: Bool { stopLock.withLock { stopFlag } }

    /// What happened since the status board was last updated.
    struct Counters {
        var invalid: [String: Int64] = [:]
        /// Well-formed messages that are not behaviour (e.g. Segment `identify`), by code.
        var skipped: [String: Int64] = [:]
        var duplicates: Int64 = 0
        var changes: Int64 = 0
        var transitions: [SegmentTransition: Int64] = [:]
        var sizes: [Int: Int64] = [:]
        var recent: [PipelineStatus.RecentChange] = []
        var kafkaErrors: [KafkaError.Code: Int64] = [:]
        var audiences = AudienceCounts()
    }

    private struct Startup {
        var opening = ContinuousClock.now
        var subscribed: ContinuousClock.Instant?
        var assigned: ContinuousClock.Instant?
        var reported = false
    }

    /// While the previous batch is still being committed, a due batch keeps growing, up to this many times
    /// `store.batch_size`, instead of waiting for it: under load, batches grow until the committer keeps up, and
    /// fewer, larger transactions rewrite fewer database pages per event. (What the engine emits does not depend
    /// on where batches end.)
    static let batchGrowthWhileCommitting = 4

    /// A decoded message of the current poll.
    struct StagedMessage {
        enum Content {
            case event(Event)
            /// A record the engine sent itself through the input topic (identity merges).
            case identity(IdentityRecord)
            /// A Segment `identify` or `alias` call: a tie between two ids (counted as skipped: not behaviour).
            case tie(IdentityTie, String)
            /// Well-formed but not behaviour: counted by code.
            case skipped(String)
            /// Rejected: the dead letter to publish and the reason's code.
            case deadLetter(OutboxMessage, String)
        }

        var topic: String
        var partition: Int32
        var offset: Int64
        var timestamp: Int64?
        var content: Content
    }

    /// What a committed batch adds to the status board, taken when the batch is handed over.
    private struct StatusUpdate {
        var counters: Counters
        var byPartition: [TopicPartition: Int64]
        var engineCounts: SegmentationEngine.Counters
        var names: [Int: String]
        var version: Int64
        var inertia: Double
        var drift: Double
        var frozen: Bool
        var clamped: (UInt64, UInt64)
    }

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

    /// A pipeline on any source and sink (tests drive it with in-memory fakes). `makeSource` receives the
    /// pipeline as the rebalance listener the source must call from inside `poll`.
    init(
        configuration: SegmenterConfiguration, logger: Logger, status: PipelineStatusBoard,
        dataDirectory: DataDirectory, sink: any OutboxSink, errors: KafkaErrorLog? = nil,
        changelog: ChangelogSync? = nil, groupModel: GroupModelSync? = nil, ensureTopics: (() throws -> Void)? = nil,
        makeSource: (any KafkaRebalanceListener) throws -> any EventSource
    ) throws {
        self.configuration = configuration
        self.changelog = changelog
        self.groupModel = groupModel
        self.ensureTopics = ensureTopics
        self.logger = logger
        self.status = status
        self.dataDirectory = dataDirectory
        self.sink = sink
        decoder = EventDecoder(
            maxMessageBytes: configuration.kafka.maxMessageBytes, format: configuration.segmentation.inputFormat)
        engine = try dataDirectory.loadEngine(configuration: configuration)
        savedModelVersion = engine.segmentation.version
        customers = CustomerWorkingSet(
            store: dataDirectory.store, layout: engine.segmentation.layout, capacity: configuration.store.cacheSize)
        committer = BatchCommitter(
            store: dataDirectory.store, sink: sink, changesTopic: configuration.kafka.changesTopic,
            publisher: OutboxPublisher(
                logger: logger, fixedPartitionTopics: Set([changelog?.topic, groupModel?.topic].compactMap { $0 })))
        counters.sizes = try StoreReader(path: dataDirectory.path).segmentSizes()
        identities = try Self.loadIdentities(dataDirectory.store)
        suppression = try Suppression(
            enabled: configuration.privacy.suppressErased, store: dataDirectory.store, status: status)
        errors?.pipeline = self
        source = try makeSource(self)
        status.update { $0.storeOpen = true }
    }

    /// Asks the loop to finish its batch, commit, flush and return.
    public func stop() {
        stopLock.withLock { stopFlag = true }
    }

    /// Queues an operator command for the pipeline thread; `reply` is called once the batch carrying its effect
    /// has committed (or with the error that prevented it).
    public func submit(_ command: ModelCommand, reply: @escaping @Sendable (Result<String, Error>) -> Void) {
        commands.submit(command, reply: reply)
    }

    /// Runs until ``stop()``; throws on a failure that must stop the daemon (the store cannot commit, Kafka
    /// reports a fatal error). Returning normally means everything was committed and flushed.
    public func run() throws {
        try sink.waitForBrokers(timeout: .seconds(10))
        try ensureTopics?()
        try dropMovedAwayState()
        try prepareGroupModel()
        try AudienceBackfill(store: store, topic: configuration.kafka.audiencesTopic, status: status, logger: logger)
            .run(engine: &engine, customers: &customers)
        try source.subscribe(topics: configuration.kafka.eventTopics)
        startup.subscribed = .now
        try committer.publisher.publish(from: store, to: sink)
        status.update { $0.started = true }
        logger.info("consuming", metadata: [
            "kafka.topics": "\(configuration.kafka.eventTopics.joined(separator: ","))",
            "kafka.group_id": "\(configuration.kafka.groupID)",
        ])
        let interval = Duration.milliseconds(configuration.store.batchIntervalMilliseconds)
        let batchSize = configuration.store.batchSize
        while !stopRequested {
            var timeout = batchStarted.map { max(.zero, $0 + interval - .now) } ?? .milliseconds(100)
            // A batch in flight is finished (Kafka commit, status) soon after it committed, even on a quiet topic;
            // a batch that waits for it does not spin.
            if committer.inFlight { timeout = max(.milliseconds(1), min(timeout, .milliseconds(10))) }
            let limit = committer.isDone ? batchSize : batchSize * Self.batchGrowthWhileCommitting
            try source.poll(max: max(1, limit - batchMessages), timeout: timeout) {
                stage($0)
            }
            try applyStaged()
            stepGroupModel()
            try stepRestores()
            if let fatal { throw fatal }
            let due = batchStarted.map { ContinuousClock.now - $0 >= interval } ?? false
            if batchMessages >= batchSize || due, committer.isDone || batchMessages >= limit {
                try commitBatch()
            }
            if committer.isDone { try finishCommit() }
            if !committer.inFlight {
                try committer.publisher.serviceDeliveries(
                    from: sink, wait: .zero, now: .now, wallClock: Self.wallClock())
                try committer.publisher.retryIfDue(from: store, to: sink, now: .now)
            }
            try housekeeping()
        }
        try shutdown()
    }

    /// SIGTERM: commit, give the producer a few seconds, leave the group, release the directory — within 10 s
    /// even while no broker answers (what is not delivered stays in the outbox for the next start).
    private func shutdown() throws {
        logger.info("stopping: committing the last batch and flushing the producer")
        try applyStaged()
        try commitBatch(wait: true)
        let brokersAway = source.brokerHealth.map { $0.up == 0 } ?? false
        let deadline = ContinuousClock.now + (brokersAway ? .zero : .seconds(4))
        while !committer.publisher.inFlight.isEmpty, ContinuousClock.now < deadline {
            try committer.publisher.serviceDeliveries(
                from: sink, wait: .milliseconds(50), now: .now, wallClock: Self.wallClock())
        }
        try commitBatch(wait: true)
        try commitToKafka(force: true)
        closing = true
        do {
            try source.close(timeout: .seconds(3))
        } catch {
            logger.warning("left the consumer group without waiting for it: \(error)")
        }
        changelog?.close()
        groupModel?.close()
        try dataDirectory.close()
        let undelivered = committer.publisher.inFlight.count + committer.publisher.failed.count
        if undelivered > 0 {
            logger.warning("\(undelivered) outbox rows not yet delivered; they are re-sent on the next start")
        }
    }

    // MARK: per message

    /// Decodes a message of the poll; it is applied with the rest of the poll by ``applyStaged()``.
    private func stage(_ message: SourceMessage) {
        // A partition being restored is read again from the restored offset once it is stored.
        if let changelog, changelog.isRestoring, changelog.isRestoring(message.partition) { return }
        if batchStarted == nil { batchStarted = .now }
        batchMessages += 1
        let content: StagedMessage.Content
        if IdentityRecord.isRecord(message.value) {
            content = identityContent(message)
        } else {
            switch decoder.decode(message.value) {
            case .success(let event):
                content = .event(event)
            case .failure(let rejection) where !rejection.isDeadLetter:
                content = IdentityTie.segmentCall(message.value).map { .tie($0, rejection.code.rawValue) }
                    ?? .skipped(rejection.code.rawValue)
            case .failure(let rejection):
                content = .deadLetter(deadLetter(message, rejection), rejection.code.rawValue)
            }
        }
        staged.append(StagedMessage(
            topic: message.topic, partition: message.partition, offset: message.offset,
            timestamp: message.timestamp, content: content))
    }

    /// Applies the staged messages in order, after loading their stored customers with one query per few hundred
    /// (not one read per first-seen customer).
    private func applyStaged() throws {
        guard !staged.isEmpty else { return }
        defer {
            staged.removeAll(keepingCapacity: true)
            customers.endPreload()
        }
        try customers.preload(staged.lazy.compactMap { message -> String? in
            if case .event(let event) = message.content { return event.customerID }
            return nil
        })
        for message in staged {
            offsets.consumed(topic: message.topic, partition: message.partition, offset: message.offset)
            switch message.content {
            case .event(let event) where suppression.drops(event):
                break
            case .event(let event):
                if try !engine.apply(event, partition: message.partition, in: &customers, identities: &identities) {
                    counters.duplicates += 1
                }
                takeChanges(trigger: message.timestamp)
                takeIdentityRecords(after: message)
            case .identity(let record):
                try apply(record, message)
            case .tie(let tie, let code):
                counters.skipped[code, default: 0] += 1
                guard !suppression.drops(tie) else { break }
                engine.tie(tie, identities: &identities)
                takeIdentityRecords(after: message)
            case .skipped(let code):
                counters.skipped[code, default: 0] += 1
            case .deadLetter(let outboxMessage, let code):
                counters.invalid[code, default: 0] += 1
                entries.append(.message(outboxMessage))
            }
        }
    }

    func deadLetter(_ message: SourceMessage, _ rejection: EventRejection) -> OutboxMessage {
        let source = "\(message.topic)/\(message.partition)/\(message.offset)"
        return OutboxMessage(
            eventID: "dlq:\(source)", customerID: "", partition: message.partition,
            topic: configuration.kafka.deadLetterTopic, key: message.key.map { Array($0) },
            payload: Array(message.value),
            headers: [("segmenter.error", Array(rejection.message.utf8)), ("segmenter.source", Array(source.utf8))],
            createdAt: Self.wallClock())
    }

    /// Moves the engine's new changes into the batch; the committer renders each into an outbox row and a
    /// transition row. `trigger` is the Kafka timestamp of the event being applied, for the latency of the change it
    /// caused.
    func takeChanges(trigger: Int64?) {
        guard engine.hasChanges else { return }
        engine.takeChanges { change in
            entries.append(.change(
                change, partition: customers.partition(of: change.customerID) ?? 0,
                trigger: change.cause == .event ? trigger : nil))
            counters.changes += 1
            counters.transitions[SegmentTransition(from: change.previous?.id, to: change.segment?.id), default: 0] += 1
            if let previous = change.previous { counters.sizes[previous.id, default: 0] -= 1 }
            if let segment = change.segment { counters.sizes[segment.id, default: 0] += 1 }
            counters.recent.append(.init(
                customerID: change.customerID, from: change.previous?.name, to: change.segment?.name ?? "—",
                cause: change.cause.rawValue, at: change.at))
            if counters.recent.count > 20 { counters.recent.removeFirst(counters.recent.count - 20) }
        }
        engine.takeAudienceChanges { change in
            entries.append(.message(.audienceChange(
                change, topic: configuration.kafka.audiencesTopic,
                partition: customers.partition(of: change.customerID) ?? 0, createdAt: Self.wallClock())))
            counters.audiences.count(change)
        }
    }

    /// A Kafka error from the consumer or producer (on this thread): counted by code; the log line is written by
    /// ``KafkaErrorLog``.
    func countKafkaError(_ error: KafkaError) {
        counters.kafkaErrors[error.code, default: 0] += 1
    }

    // MARK: per batch

    /// Hands the batch to the committer (after finishing the one in flight). With `wait`, or when it answers
    /// operator commands, returns only once it has committed and been published.
    private func commitBatch(wait: Bool = false) throws {
        try finishCommit()
        let commandChangedModel = commands.applyQueued({ try carryOut($0) })
        if commandChangedModel { modelChangedBetweenBatches = true }
        if configuration.clock == .wall {
            // By design the wall clock moves time on a quiet stream; time-driven work follows it.
            let before = engine.segmentation.watermark
            engine.segmentation.advanceWatermark(to: Self.wallClock())
            if engine.segmentation.watermark > before {
                try engine.tick(in: &customers)
                takeChanges(trigger: nil)
            }
        }
        let delivered = committer.publisher.delivered
        guard customers.hasChanges || !entries.isEmpty || offsets.hasPending || !delivered.isEmpty
            || modelChangedBetweenBatches || commands.hasAnswers
        else {
            batchStarted = nil
            return
        }
        takeIdentityLinks(into: &batch)
        let answersCommands = commands.hasAnswers
        modelChangedBetweenBatches = false
        let gone = changelog == nil ? [:] : customers.removedPartitions
        customers.drainChanges(into: &batch)
        let segmentation = engine.segmentation
        let model = StoredModel(
            version: segmentation.version, savedAt: Self.wallClock(),
            blob: try segmentation.snapshot().encoded())
        batch.model = model
        if segmentation.version != savedModelVersion, segmentation.version > 0 {
            batch.modelSnapshot = model
        }
        savedModelVersion = segmentation.version
        batch.offsets = offsets.batchOffsets()
        if let changelog { addChangelogRows(changelog, gone: gone) }
        try addGroupModelRow(commandChangedModel: commandChangedModel)
        batch.metadata[DataDirectory.engineProgressKey] = DataDirectory.encode(engine.progress)
        pendingStatus = takeStatusUpdate()
        committer.submit(&batch, entries: entries)
        entries.removeAll(keepingCapacity: true)
        batchMessages = 0
        batchStarted = nil
        if wait || answersCommands { try finishCommit() }
    }

    /// Waits for the batch in flight, if any; once it is durable its offsets are, and Kafka may hear of them.
    private func finishCommit() throws {
        guard committer.inFlight else { return }
        let outcome: BatchCommitter.Outcome?
        do {
            outcome = try committer.finish()
        } catch {
            commands.answer(failure: error)
            throw error
        }
        commands.answer(failure: nil)
        offsets.committed()
        customers.committed()
        if let update = pendingStatus {
            pendingStatus = nil
            publishStatus(update, commitSeconds: outcome?.commitSeconds)
            if !startup.reported, !update.byPartition.isEmpty { reportStartup() }
        }
        try commitToKafka(force: false)
    }

    /// Logs how long the first batch of events took to commit after the store was opened, and how much of that
    /// was the consumer group's join (the broker's part, not ours).
    private func reportStartup() {
        startup.reported = true
        let now = ContinuousClock.now
        var join = "unknown"
        if let subscribed = startup.subscribed, let assigned = startup.assigned {
            join = "\((assigned - subscribed).seconds)"
        }
        logger.info("first batch committed", metadata: [
            "startup.first_commit_s": "\((now - startup.opening).seconds)", "startup.group_join_s": "\(join)",
        ])
    }

    /// The counters of the batch being handed over, and the model as it leaves it.
    private func takeStatusUpdate() -> StatusUpdate {
        let snapshot = counters
        counters = Counters()
        counters.sizes = snapshot.sizes
        // Kafka errors reach the board once a second, from housekeeping, batches or not.
        counters.kafkaErrors = snapshot.kafkaErrors
        let segmentation = engine.segmentation
        return StatusUpdate(
            counters: snapshot, byPartition: offsets.takeCounts(), engineCounts: engine.takeCounters(),
            names: segmentation.names, version: segmentation.version, inertia: segmentation.kmeans.inertia,
            drift: segmentation.driftPerHour, frozen: segmentation.frozen,
            clamped: (segmentation.clampedAhead, segmentation.clampedBehind))
    }

    private func publishStatus(_ update: StatusUpdate, commitSeconds: Double?) {
        let snapshot = update.counters
        let latencies = committer.publisher.takeLatencies()
        status.update { s in
            (s.eventsClampedAhead, s.eventsClampedBehind) = update.clamped
            for (partition, n) in update.byPartition {
                s.eventsByPartition[partition, default: 0] += n
                s.eventsTotal += n
            }
            for (reason, n) in snapshot.invalid { s.invalidByReason[reason, default: 0] += n }
            for (reason, n) in snapshot.skipped { s.skippedByReason[reason, default: 0] += n }
            for (transition, n) in snapshot.transitions { s.changesByTransition[transition, default: 0] += n }
            s.duplicates += snapshot.duplicates
            s.changesTotal += snapshot.changes
            s.segmentSizes = snapshot.sizes
            s.segmentNames = update.names
            s.modelVersion = update.version
            s.inertia = update.inertia
            s.driftPerHour = update.drift
            s.frozen = update.frozen
            s.reevaluatedTotal += update.engineCounts.reevaluated
            s.reevaluationPasses += update.engineCounts.reevaluationPasses
            // The latest changes stay until newer ones replace them (a batch without changes keeps the list).
            s.recentChanges = Array((s.recentChanges + snapshot.recent).suffix(20))
            s.audiences.fold(snapshot.audiences)
            s.eventToChangeSecondsSamples.append(contentsOf: latencies)
            if let commitSeconds {
                s.batches += 1
                s.lastBatchCommitSeconds = commitSeconds
                s.commitSecondsSamples.append(commitSeconds)
            }
        }
    }

    private func commitToKafka(force: Bool) throws {
        guard force || ContinuousClock.now - lastKafkaCommit >= .seconds(1) else { return }
        lastKafkaCommit = .now
        let owned = offsets.durableOwned
        guard !owned.isEmpty else { return }
        do {
            try source.commit(owned)
        } catch {
            logger.debug("committing offsets to Kafka failed (only lag tools use them)", metadata: [
                "error": "\(error)",
            ])
        }
    }

    private func housekeeping() throws {
        let idleSweepDue = configuration.clock == .wall && ContinuousClock.now - lastIdleSweep >= .seconds(1)
        if batchStarted == nil, !committer.inFlight {
            let publisher = committer.publisher
            let delivered = publisher.delivered.count
            if commands.waiting || idleSweepDue || modelChangedBetweenBatches
                || (delivered > 0 && (delivered >= 1_000 || publisher.isIdle))
            {
                lastIdleSweep = .now
                try commitBatch()
            }
        }
        // Not while restoring: the tail reads share the changelog reader with the restores.
        if !movedAwayCandidates.isEmpty, !committer.inFlight, changelog?.isRestoring == false,
           ContinuousClock.now >= nextMovedAwayCheck
        {
            nextMovedAwayCheck = .now + .seconds(2)
            try dropMovedAwayPartitions()
        }
        guard ContinuousClock.now - lastStatusRefresh >= .seconds(1) else { return }
        lastStatusRefresh = .now
        let lag = source.lag(for: offsets.positions)
        let pending = (try? store.outboxCount()) ?? 0
        let assigned = offsets.assigned
        let kafkaErrors = counters.kafkaErrors
        counters.kafkaErrors.removeAll()
        let brokers = source.brokerHealth
        status.update { s in
            s.kafkaBrokers = brokers
            s.lagByPartition = lag
            s.assignedPartitions = assigned
            s.outboxPending = pending
            for (code, n) in kafkaErrors { s.kafkaErrorsByCode[code, default: 0] += n }
        }
    }

    // MARK: changelog

    /// The batch's changelog rows (changed customers, then a marker per moved partition), and the customers and
    /// settling rows of partitions restored since the last batch.
    private func addChangelogRows(_ changelog: ChangelogSync, gone: [String: Int32]) {
        let moved = batch.offsets
        let durable = offsets.durable
        let input = changelog.inputTopic
        let rows = changelog.rows(for: batch.customers, gone: gone, moved: moved, next: { partition in
            moved[TopicPartitionKey(topic: input, partition: partition)]
                ?? durable[TopicPartition(topic: input, partition: partition)]
        }, createdAt: Self.wallClock())
        for row in rows { entries.append(.message(row)) }
        if !restored.isEmpty {
            batch.customers.append(contentsOf: restored)
            restored.removeAll()
        }
        for row in settlingRows { entries.append(.message(row)) }
        settlingRows.removeAll()
        batch.metadata[ChangelogSync.serialKey] = String(changelog.serial)
    }

    /// At start, before the outbox is published: for every partition this store holds, or has undelivered
    /// changelog rows for, whose changelog another instance has written since — it moved while this one was down —
    /// the undelivered rows are dropped (the other's writes are newer, and ours must not land after them), and so are
    /// the partition's customers and offset (the changelog has them, should the partition come back).
    private func dropMovedAwayState() throws {
        guard let changelog else { return }
        let pending = Set(try store.outboxPartitions(topic: changelog.topic))
        let stored = Set(try store.offsets().keys.filter { $0.topic == changelog.inputTopic }.map(\.partition))
        var moved: [Int32] = []
        for partition in pending.union(stored).sorted() {
            guard let marker = try changelog.tailMarker(partition), marker.writer != changelog.instanceID else {
                continue
            }
            if stored.contains(partition) { moved.append(partition) }
            guard pending.contains(partition) else { continue }
            let dropped = try store.deleteOutbox(topic: changelog.topic, partition: partition)
            logger.warning("dropped undelivered changelog rows: another instance wrote the partition since", metadata: [
                "kafka.partition": "\(partition)", "changelog.rows": "\(dropped)",
                "changelog.writer": "\(marker.writer)",
            ])
        }
        try dropPartitionState(moved, because: "another instance wrote their changelog since this one stopped")
    }

    /// Every few seconds while revoked partitions are waiting: those whose changelog another instance has written
    /// since are dropped from the store. A read that fails is tried again at the next check.
    private func dropMovedAwayPartitions() throws {
        guard let changelog else { return }
        var moved: [Int32] = []
        for (partition, since) in movedAwayCandidates.sorted(by: { $0.key < $1.key }) {
            guard ContinuousClock.now - since < Self.movedAwayWatch else {
                movedAwayCandidates[partition] = nil
                continue
            }
            guard let marker = try? changelog.tailMarker(partition) else { continue }
            if marker.writer != changelog.instanceID {
                moved.append(partition)
                movedAwayCandidates[partition] = nil
            }
        }
        try dropPartitionState(moved, because: "another instance has written their changelog since they were revoked")
    }

    /// Deletes what the store holds of partitions that moved to another instance, so that its API, segment sizes and
    /// exports answer only for its own partitions. Runs between batches, with nothing in flight.
    private func dropPartitionState(_ partitions: [Int32], because reason: String) throws {
        guard let changelog, !partitions.isEmpty else { return }
        var drop = StoreBatch()
        drop.droppedPartitions = partitions.map { TopicPartitionKey(topic: changelog.inputTopic, partition: $0) }
        try store.commit(drop)
        counters.sizes = try StoreReader(path: dataDirectory.path).segmentSizes()
        logger.info("dropped the state of partitions that moved to another instance", metadata: [
            "kafka.partitions": "\(partitions)", "reason": "\(reason)",
        ])
    }

    /// Reads the restoring partitions on; a finished one is stored with the next batch and then consumed again from
    /// its restored offset.
    private func stepRestores() throws {
        guard let changelog, changelog.isRestoring || !restoredPartitions.isEmpty else { return }
        let done = try changelog.step(max: 20_000)
        var restoredCustomers: Int64 = 0
        for restore in done {
            let partition = restore.partition.partition
            let (customers, nextOffset, unsettled) = restore.result()
            let resume = nextOffset ?? 0
            batch.replacedPartitions.append(partition)
            restored.append(contentsOf: customers)
            // The restored customers' time is the stream's: features age from it, not from a watermark that never
            // moved on an instance that has applied nothing yet.
            if let latest = customers.lazy.map(\.lastEventAt).max() {
                engine.segmentation.advanceWatermark(to: latest)
            }
            let standing = Dictionary(customers.map { ($0.customerID, $0) }, uniquingKeysWith: { $1 })
            settlingRows += changelog.settlingRows(
                partition: partition, unsettled: unsettled, standing: standing, nextOffset: resume,
                createdAt: Self.wallClock())
            let input = TopicPartition(topic: changelog.inputTopic, partition: partition)
            offsets.restored(input, nextOffset: resume)
            restoredPartitions.append(input)
            let seconds = restoreStarted.removeValue(forKey: partition).map { (ContinuousClock.now - $0).seconds } ?? 0
            logger.info("partition restored from the changelog", metadata: [
                "kafka.partition": "\(partition)", "restore.customers": "\(customers.count)",
                "restore.next_offset": "\(resume)", "restore.unsettled": "\(unsettled.count)",
                "restore.malformed": "\(restore.malformed)", "restore.seconds": "\(seconds)",
            ])
            restoredCustomers += Int64(customers.count)
        }
        // A finished partition counts as restoring (0 records left) until the batch that stores it has committed:
        // /readyz says ready only once every restored customer can be read.
        var remaining = changelog.remaining
        for partition in restoredPartitions { remaining[partition] = 0 }
        status.update { $0.restoreRemaining = remaining }
        if !done.isEmpty {
            // The restored customers and offsets become durable first; only then are the partitions consumed again.
            try commitBatch(wait: true)
            let resumed = restoredPartitions
            restoredPartitions.removeAll()
            customers.owned = ownedPartitions()
            counters.sizes = try StoreReader(path: dataDirectory.path).segmentSizes()
            source.resume(resumed.map { ($0, offsets.durable[$0] ?? 0) })
            status.update { s in
                s.restoreRemaining = changelog.remaining
                s.restoredCustomersTotal += restoredCustomers
                s.restoresCompleted += Int64(done.count)
            }
        }
        tickRestoreClock(restoring: changelog.isRestoring || !restoredPartitions.isEmpty)
    }

    /// `segmenter_restore_seconds` is wall time during which at least one partition was restoring (partitions
    /// restore side by side, so their own durations would overlap); it grows while a restore runs.
    private func tickRestoreClock(restoring: Bool) {
        let now = ContinuousClock.now
        if let since = restoreClock {
            status.update { $0.restoreSecondsTotal += (now - since).seconds }
        }
        restoreClock = restoring ? now : nil
    }

    /// The partitions whose customers this instance may touch: assigned and not being restored (nil: all, without
    /// a changelog — the store then holds only what this instance consumed).
    private func ownedPartitions() -> Set<Int32>? {
        guard let changelog else { return nil }
        return Set(offsets.assigned.map(\.partition).filter { !changelog.isRestoring($0) })
            .subtracting(restoredPartitions.map(\.partition))
    }

    // MARK: rebalance

    public func partitionsRevoked(_ partitions: [TopicPartition]) {
        do {
            try applyStaged()
            try commitBatch(wait: true)
            try commitToKafka(force: true)
        } catch {
            fatal = error
            return
        }
        customers.reset()
        offsets.revoke(partitions)
        groupModelRevoked(partitions)
        // A revoked partition's state stays until its changelog shows another writer (see `dropMovedAwayPartitions`):
        // a partition lost in a broker outage and handed back to this instance must not be restored from scratch,
        // and leaving the group at shutdown keeps everything for the next start.
        if let changelog, !closing {
            for partition in partitions where partition.topic == changelog.inputTopic {
                movedAwayCandidates[partition.partition] = .now
            }
        }
        if let changelog {
            do {
                try changelog.cancelRestores(partitions.map(\.partition))
            } catch {
                fatal = error
            }
            restoredPartitions.removeAll { partitions.contains($0) }
            tickRestoreClock(restoring: changelog.isRestoring || !restoredPartitions.isEmpty)
            customers.owned = ownedPartitions()
            status.update { $0.restoreRemaining = changelog.remaining }
        }
        logger.info("partitions revoked", metadata: ["kafka.partitions": "\(partitions.count)"])
    }

    public func partitionsAssigned(_ partitions: [TopicPartition]) -> [TopicPartition: Int64] {
        var starts: [TopicPartition: Int64] = [:]
        do {
            try finishCommit()
            starts = offsets.assign(partitions, stored: try store.offsets())
            for partition in partitions { movedAwayCandidates[partition.partition] = nil }
            groupModelAssigned(partitions)
            if let changelog {
                var restoring: [Int32] = []
                for partition in partitions where partition.topic == changelog.inputTopic {
                    guard let marker = try changelog.needsRestore(partition.partition, stored: starts[partition])
                    else { continue }
                    restoring.append(partition.partition)
                    starts[partition] = marker.nextOffset
                }
                if !restoring.isEmpty {
                    try changelog.beginRestores(restoring)
                    for partition in restoring { restoreStarted[partition] = .now }
                    if restoreClock == nil { restoreClock = .now }
                    logger.info("restoring partitions from the changelog", metadata: [
                        "kafka.partitions": "\(restoring)", "kafka.topic": "\(changelog.topic)",
                    ])
                }
                customers.owned = ownedPartitions()
                status.update { $0.restoreRemaining = changelog.remaining }
            }
        } catch {
            fatal = error
        }
        if startup.assigned == nil { startup.assigned = .now }
        logger.info("partitions assigned", metadata: [
            "kafka.partitions": "\(partitions.count)", "kafka.from_store": "\(starts.count)",
        ])
        return starts
    }

    public func partitionsToHold(_ assigned: [TopicPartition]) -> [TopicPartition] {
        guard let changelog else { return [] }
        return assigned.filter { $0.topic == changelog.inputTopic && changelog.isRestoring($0.partition) }
    }

    static func wallClock() -> Int64 {
        Int64(Date().timeIntervalSince1970 * 1000)
    }
}
