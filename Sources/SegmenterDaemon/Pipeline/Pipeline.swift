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
    /// Which partitions this instance owns, restores, watches after a revoke, and whether it leads the model.
    private var ownership: PartitionOwnership
    private let committer: BatchCommitter
    private let commands = OperatorCommands()
    /// Counts librdkafka's errors from whichever thread reports them.
    private let kafkaErrors: KafkaErrorLog?
    var batch = StoreBatch()
    /// The batch's outbox rows in order (changes are rendered by the committer).
    var entries: [BatchCommitter.Entry] = []
    /// Erased ids whose later events are dropped (`privacy.suppress_erased`; see `Pipeline+Erasure.swift`).
    var suppression: Suppression
    /// Anonymous id → known id (see `Pipeline+Identity.swift`).
    var identities: IdentityMap
    /// The messages of the current poll, decoded, waiting to be applied once their customers are loaded.
    private var input: StagedInput
    private var batchMessages = 0
    private var batchStarted: ContinuousClock.Instant?
    private var savedModelVersion: Int64
    /// An operator command or an adopted group model changed the model: the next batch stores it.
    var modelChangedBetweenBatches = false
    private var telemetry: PipelineTelemetry
    private var lastKafkaCommit = ContinuousClock.now
    private var lastIdleSweep = ContinuousClock.now
    private var fatal: Error?
    /// Set by `stop()` from any thread. A lock-guarded Bool, not an `Atomic`: a noncopyable stored property in this
    /// class's throwing init crashes the Swift 6.3.1 optimiser in release builds.
    private var stopFlag = false
    private let stopLock = NSLock()
    private var stopRequested: Bool { stopLock.withLock { stopFlag } }

    /// While the previous batch is still being committed, a due batch keeps growing, up to this many times
    /// `store.batch_size`, instead of waiting for it: under load, batches grow until the committer keeps up, and
    /// fewer, larger transactions rewrite fewer database pages per event. (What the engine emits does not depend
    /// on where batches end.)
    static let batchGrowthWhileCommitting = 4

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
        ownership = PartitionOwnership(
            changelog: changelog != nil, leaderPartition: groupModel?.leaderPartition.partition, now: .now)
        input = StagedInput(configuration: configuration)
        engine = try dataDirectory.loadEngine(configuration: configuration)
        savedModelVersion = engine.segmentation.version
        customers = CustomerWorkingSet(
            store: dataDirectory.store, layout: engine.segmentation.layout, capacity: configuration.store.cacheSize)
        committer = BatchCommitter(
            store: dataDirectory.store, sink: sink, changesTopic: configuration.kafka.changesTopic,
            publisher: OutboxPublisher(
                logger: logger, fixedPartitionTopics: Set([changelog?.topic, groupModel?.topic].compactMap { $0 })))
        telemetry = PipelineTelemetry(
            status: status, logger: logger, sizes: try StoreReader(path: dataDirectory.path).segmentSizes())
        identities = try Self.loadIdentities(dataDirectory.store)
        suppression = try Suppression(
            enabled: configuration.privacy.suppressErased, store: dataDirectory.store, status: status)
        kafkaErrors = errors
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
        telemetry.subscribed()
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
            try source.poll(max: max(1, limit - batchMessages), timeout: timeout) { message in
                // A partition being restored is read again from the restored offset once it is stored.
                if let changelog, changelog.isRestoring, changelog.isRestoring(message.partition) { return }
                if batchStarted == nil { batchStarted = .now }
                batchMessages += 1
                input.stage(message)
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
        ownership.close()
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

    /// Applies the staged messages in order, after loading their stored customers with one query per few hundred
    /// (not one read per first-seen customer).
    private func applyStaged() throws {
        guard !input.staged.isEmpty else { return }
        defer {
            input.removeAll()
            customers.endPreload()
        }
        try customers.preload(input.customerIDs)
        for message in input.staged {
            offsets.consumed(topic: message.topic, partition: message.partition, offset: message.offset)
            switch message.content {
            case .event(let event) where suppression.drops(event):
                break
            case .event(let event):
                if try !engine.apply(event, partition: message.partition, in: &customers, identities: &identities) {
                    telemetry.duplicate()
                }
                takeChanges(trigger: message.timestamp)
                takeIdentityRecords(after: message)
            case .identity(let record):
                try apply(record, message)
            case .tie(let tie, let code):
                telemetry.skipped(code)
                guard !suppression.drops(tie) else { break }
                engine.tie(tie, identities: &identities)
                takeIdentityRecords(after: message)
            case .skipped(let code):
                telemetry.skipped(code)
            case .deadLetter(let outboxMessage, let code):
                telemetry.invalid(code)
                entries.append(.message(outboxMessage))
            }
        }
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
            telemetry.change(change)
        }
        engine.takeAudienceChanges { change in
            entries.append(.message(.audienceChange(
                change, topic: configuration.kafka.audiencesTopic,
                partition: customers.partition(of: change.customerID) ?? 0, createdAt: Self.wallClock())))
            telemetry.audienceChange(change)
        }
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
        telemetry.batchHandedOver(
            byPartition: offsets.takeCounts(), engine: engine.takeCounters(), segmentation: engine.segmentation)
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
        telemetry.batchCommitted(
            commitSeconds: outcome?.commitSeconds, latencies: committer.publisher.takeLatencies())
        try commitToKafka(force: false)
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
        try perform(ownership.tick(now: .now, idle: !committer.inFlight))
        guard telemetry.refreshDue(now: .now) else { return }
        // Kafka errors reach the board once a second, batches or not.
        telemetry.refresh(
            brokers: source.brokerHealth, lag: source.lag(for: offsets.positions), assigned: offsets.assigned,
            outboxPending: (try? store.outboxCount()) ?? 0, kafkaErrors: kafkaErrors?.takeCounts() ?? [:])
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

    /// Which of these revoked partitions another instance has written the changelog of since. A read that fails is
    /// tried again at the next check.
    private func writtenElsewhere(_ partitions: [Int32]) -> [Int32] {
        guard let changelog else { return [] }
        return partitions.filter { partition in
            guard let marker = try? changelog.tailMarker(partition) else { return false }
            return marker.writer != changelog.instanceID
        }
    }

    /// Deletes what the store holds of partitions that moved to another instance, so that its API, segment sizes and
    /// exports answer only for its own partitions. Runs between batches, with nothing in flight.
    private func dropPartitionState(_ partitions: [Int32], because reason: String) throws {
        guard let changelog, !partitions.isEmpty else { return }
        var drop = StoreBatch()
        drop.droppedPartitions = partitions.map { TopicPartitionKey(topic: changelog.inputTopic, partition: $0) }
        try store.commit(drop)
        telemetry.resetSizes(try StoreReader(path: dataDirectory.path).segmentSizes())
        logger.info("dropped the state of partitions that moved to another instance", metadata: [
            "kafka.partitions": "\(partitions)", "reason": "\(reason)",
        ])
    }

    /// Reads the restoring partitions on; a finished one is stored with the next batch and then consumed again from
    /// its restored offset.
    private func stepRestores() throws {
        guard let changelog, ownership.isRestoring else { return }
        let done = try changelog.step(max: 20_000)
        let (seconds, actions) = ownership.restoresFinished(done.map(\.partition.partition), now: .now)
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
            offsets.restored(TopicPartition(topic: changelog.inputTopic, partition: partition), nextOffset: resume)
            logger.info("partition restored from the changelog", metadata: [
                "kafka.partition": "\(partition)", "restore.customers": "\(customers.count)",
                "restore.next_offset": "\(resume)", "restore.unsettled": "\(unsettled.count)",
                "restore.malformed": "\(restore.malformed)", "restore.seconds": "\(seconds[partition] ?? 0)",
            ])
            restoredCustomers += Int64(customers.count)
        }
        publishRestoreRemaining()
        guard !done.isEmpty else { return }
        try perform(actions)
        status.update { s in
            s.restoredCustomersTotal += restoredCustomers
            s.restoresCompleted += Int64(done.count)
        }
    }

    /// A finished partition counts as restoring (0 records left) until the batch that stores it has committed:
    /// /readyz says ready only once every restored customer can be read.
    private func publishRestoreRemaining() {
        guard let changelog else { return }
        var remaining = changelog.remaining
        for partition in ownership.awaitingStore {
            remaining[TopicPartition(topic: changelog.inputTopic, partition: partition)] = 0
        }
        status.update { $0.restoreRemaining = remaining }
    }

    /// Carries out what partition ownership decided, in order.
    private func perform(_ actions: [PartitionOwnership.Action]) throws {
        for action in actions {
            switch action {
            case .beginRestores(let partitions):
                guard let changelog else { continue }
                try changelog.beginRestores(partitions)
                logger.info("restoring partitions from the changelog", metadata: [
                    "kafka.partitions": "\(partitions)", "kafka.topic": "\(changelog.topic)",
                ])
            case .cancelRestores(let partitions):
                try changelog?.cancelRestores(partitions)
            case .storeRestored:
                // The restored customers and offsets become durable first; only then are the partitions consumed
                // again.
                try commitBatch(wait: true)
                try perform(ownership.restoredStored())
            case .resume(let partitions):
                guard let input = changelog?.inputTopic else { continue }
                customers.owned = ownership.owned
                telemetry.resetSizes(try StoreReader(path: dataDirectory.path).segmentSizes())
                source.resume(partitions.map {
                    let place = TopicPartition(topic: input, partition: $0)
                    return (place, offsets.durable[place] ?? 0)
                })
                publishRestoreRemaining()
            case .checkMovedAway(let partitions):
                try perform(ownership.writtenElsewhere(writtenElsewhere(partitions)))
            case .drop(let partitions):
                try dropPartitionState(
                    partitions, because: "another instance has written their changelog since they were revoked")
            case .lead:
                groupModelAssigned()
            case .follow:
                groupModelRevoked()
            case .restoreSeconds(let seconds):
                status.update { $0.restoreSecondsTotal += seconds }
            }
        }
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
        do {
            try perform(ownership.revoked(inputPartitions(partitions), now: .now))
        } catch {
            fatal = error
        }
        if changelog != nil {
            customers.owned = ownership.owned
            publishRestoreRemaining()
        }
        logger.info("partitions revoked", metadata: ["kafka.partitions": "\(partitions.count)"])
    }

    public func partitionsAssigned(_ partitions: [TopicPartition]) -> [TopicPartition: Int64] {
        var starts: [TopicPartition: Int64] = [:]
        do {
            try finishCommit()
            starts = offsets.assign(partitions, stored: try store.offsets())
            var restoring: Set<Int32> = []
            if let changelog {
                for partition in partitions where partition.topic == changelog.inputTopic {
                    guard let marker = try changelog.needsRestore(partition.partition, stored: starts[partition])
                    else { continue }
                    restoring.insert(partition.partition)
                    starts[partition] = marker.nextOffset
                }
            }
            try perform(ownership.assigned(inputPartitions(partitions), restoring: restoring, now: .now))
            if changelog != nil {
                customers.owned = ownership.owned
                publishRestoreRemaining()
            }
        } catch {
            fatal = error
        }
        telemetry.assigned()
        logger.info("partitions assigned", metadata: [
            "kafka.partitions": "\(partitions.count)", "kafka.from_store": "\(starts.count)",
        ])
        return starts
    }

    public func partitionsToHold(_ assigned: [TopicPartition]) -> [TopicPartition] {
        guard let changelog else { return [] }
        return assigned.filter { $0.topic == changelog.inputTopic && changelog.isRestoring($0.partition) }
    }

    /// The partition numbers of the input topic the changelog and the model topic follow (of every topic without
    /// either).
    private func inputPartitions(_ partitions: [TopicPartition]) -> [Int32] {
        guard let input = changelog?.inputTopic ?? groupModel?.inputTopic else { return partitions.map(\.partition) }
        return partitions.filter { $0.topic == input }.map(\.partition)
    }

    static func wallClock() -> Int64 {
        Int64(Date().timeIntervalSince1970 * 1000)
    }
}
