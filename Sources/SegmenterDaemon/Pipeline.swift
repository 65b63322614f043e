import Foundation
import Logging
import SegmenterCore
import SegmenterKafka
import SegmenterStore
import Synchronization

/// The daemon's loop (DESIGN §1): poll a batch → decode → apply → assign → learn → ONE SQLite
/// transaction with the customers, the outbox, the model and the next offsets → publish the outbox → commit
/// offsets to Kafka.
///
/// SQLite is the source of truth: on every assignment the consumer starts from the offsets stored with the state,
/// so an event's effect and its offset become durable together and a `kill -9` at any moment neither loses nor
/// doubles an event. Segment changes and dead letters go through the outbox, so they are published at least
/// once, with deterministic ids. Runs on one dedicated thread: nothing here is awaited per message.
public final class Pipeline: KafkaRebalanceListener, @unchecked Sendable {
    public static let databaseFileName = "segmenter.sqlite"

    private let configuration: SegmenterConfiguration
    private let logger: Logger
    public let status: PipelineStatusBoard
    private let store: StateStore
    /// Held from start until the pipeline has stopped and checkpointed.
    private let lock: DataDirectoryLock
    /// Created last in `init`, because it holds this pipeline (weakly) as its rebalance listener.
    private var consumer: KafkaConsumer!
    private let producer: KafkaProducer
    private let decoder: EventDecoder
    private var segmentation: Segmentation
    /// Set by `stop()` from any thread. A lock-guarded Bool, not an `Atomic`: a noncopyable stored property in this
    /// class's throwing init crashes the Swift 6.3.1 optimiser in release builds.
    private var stopFlag = false
    private let stopLock = NSLock()
    private var stopRequested: Bool { stopLock.withLock { stopFlag } }

    private var cache: LRUCache<String, CustomerRecord>
    private var dirty: Set<String> = []
    private var evictedDirty: [String: CustomerRecord] = [:]
    private var batch = StoreBatch()
    private var batchEvents = 0
    private var batchStarted: ContinuousClock.Instant?
    private var pendingOffsets: [TopicPartition: Int64] = [:]
    private var durableOffsets: [TopicPartition: Int64] = [:]
    private var assigned: [TopicPartition] = []
    private var savedModelVersion: Int64
    private var reevaluationBudget = 0.0
    private var reevaluationCursor: String?

    private var outboxQueuedThrough: Int64 = 0
    private var inFlight: [UInt64: Int64?] = [:]
    private var retryAfter: ContinuousClock.Instant?
    private var retryDelay: Duration = .milliseconds(500)
    private var delivered: [Int64] = []
    private var triggerTimestamps: [String: Int64] = [:]
    private var lastKafkaCommit = ContinuousClock.now
    private var lastStatusRefresh = ContinuousClock.now - .seconds(10)
    private var lastIdleSweep = ContinuousClock.now
    private var fatal: Error?

    private var counters = Counters()
    private var currentRun = Run(topic: "", partition: -1)

    /// Consecutive messages of one partition.
    private struct Run {
        var topic: String
        var partition: Int32
        var nextOffset: Int64 = 0
        var count: Int64 = 0
    }

    private struct Counters {
        var events: Int64 = 0
        var byPartition: [TopicPartition: Int64] = [:]
        var invalid: [String: Int64] = [:]
        var duplicates: Int64 = 0
        var changes: Int64 = 0
        var transitions: [String: Int64] = [:]
        var sizes: [Int: Int64] = [:]
        var recent: [PipelineStatus.RecentChange] = []
        var eventToChange: [Double] = []
        var reevaluated: Int64 = 0
        var reevaluationPasses: Int64 = 0
    }

    public init(configuration: SegmenterConfiguration, logger: Logger, status: PipelineStatusBoard = .init()) throws {
        self.configuration = configuration
        self.logger = logger
        self.status = status
        decoder = EventDecoder(
            maxMessageBytes: configuration.kafka.maxMessageBytes, format: configuration.segmentation.inputFormat)
        cache = LRUCache(capacity: configuration.store.cacheSize)

        let path = URL(fileURLWithPath: configuration.store.dataDirectory)
            .appendingPathComponent(Self.databaseFileName).path
        lock = try Self.lockDataDirectory(configuration.store.dataDirectory)
        store = try StateStore(
            path: path, options: StoreOptions(synchronous: configuration.store.synchronousFull ? .full : .normal))
        segmentation = try Self.loadSegmentation(store: store, configuration: configuration, path: path)
        savedModelVersion = segmentation.version
        reevaluationCursor = try store.metadata("reevaluation_cursor")
        counters.sizes = try StoreReader(path: path).segmentSizes().reduce(into: [:]) { $0[$1.key] = $1.value }

        let kafka = configuration.kafka
        var properties = kafka.properties
        properties["enable.partition.eof"] = properties["enable.partition.eof"] ?? "false"
        // A fetch returns after at most 20 ms even with little data: segment changes are for campaigns that react
        // in real time (librdkafka's default 500 ms dominated event -> change latency on a quiet partition).
        properties["fetch.wait.max.ms"] = properties["fetch.wait.max.ms"] ?? "20"
        let consumerConfiguration = KafkaConfiguration(
            bootstrapServers: kafka.bootstrapServers, groupID: kafka.groupID, clientID: kafka.clientID,
            properties: properties)
        var producerProperties = kafka.properties
        producerProperties["linger.ms"] = producerProperties["linger.ms"] ?? "5"
        // Change events are repetitive JSON: lz4 makes them several times smaller on the wire and on disk.
        producerProperties["compression.codec"] = producerProperties["compression.codec"] ?? "lz4"
        let producerConfiguration = KafkaConfiguration(
            bootstrapServers: kafka.bootstrapServers, groupID: nil, clientID: kafka.clientID,
            properties: producerProperties)
        producer = try KafkaProducer(configuration: producerConfiguration)
        consumer = try KafkaConsumer(configuration: consumerConfiguration, rebalanceListener: self)
        status.update { $0.storeOpen = true }
    }

    /// Takes the data directory's lock or explains that another process holds it.
    static func lockDataDirectory(_ directory: String) throws -> DataDirectoryLock {
        guard let lock = try DataDirectoryLock(dataDirectory: directory) else {
            throw CommandError(
                "another segmenter process is using \(directory): stop it first, or give this instance its own "
                    + "--data-dir (each instance of a consumer group needs its own)")
        }
        return lock
    }

    /// Restores the model from the store, refusing a data directory built with different features.
    static func loadSegmentation(store: StateStore, configuration: SegmenterConfiguration, path: String) throws
        -> Segmentation
    {
        let spec = configuration.segmentation.features
        if let stored = try store.metadata("feature_fingerprint"), stored != spec.fingerprint {
            let before = try store.metadata("feature_spec") ?? "(not recorded)"
            let changed = describeChange(before: before, after: spec.canonicalDescription)
            throw CommandError("""
                the data in \(path) was built with different features (\(changed)). Customer state cannot be \
                carried over: restore the previous `features` configuration, or rebuild from the topic with a new \
                --data-dir (or delete \(path)) and a new kafka.group_id.
                """)
        }
        try store.setMetadata("feature_fingerprint", spec.fingerprint)
        try store.setMetadata("feature_spec", spec.canonicalDescription)
        guard let model = try store.model() else {
            return Segmentation(configuration: configuration.segmentation)
        }
        do {
            let snapshot = try SegmentationSnapshot.decode(model.blob)
            return try Segmentation(configuration: configuration.segmentation, snapshot: snapshot)
        } catch let mismatch as SnapshotMismatch {
            throw CommandError("\(mismatch.description) in \(path): restore the previous model settings, "
                + "or start with a new --data-dir")
        }
    }

    static func describeChange(before: String, after: String) -> String {
        let old = Set(before.split(separator: "\n").map(String.init))
        let new = Set(after.split(separator: "\n").map(String.init))
        let removed = old.subtracting(new).sorted().map { "was \($0)" }
        let added = new.subtracting(old).sorted().map { "now \($0)" }
        let all = removed + added
        return all.isEmpty ? "feature order changed" : all.prefix(6).joined(separator: "; ")
    }

    /// Asks the loop to finish its batch, commit, flush and return.
    public func stop() {
        stopLock.withLock { stopFlag = true }
    }

    /// Runs until ``stop()``; throws on a failure that must stop the daemon (the store cannot commit, Kafka
    /// reports a fatal error). Returning normally means everything was committed and flushed.
    public func run() throws {
        try producer.waitForBrokers(timeout: .seconds(10))
        try consumer.subscribe(topics: configuration.kafka.eventTopics)
        try publishOutbox()
        status.update { $0.started = true }
        logger.info("consuming", metadata: [
            "kafka.topics": "\(configuration.kafka.eventTopics.joined(separator: ","))",
            "kafka.group_id": "\(configuration.kafka.groupID)",
        ])
        while !stopRequested {
            let interval = Duration.milliseconds(configuration.store.batchIntervalMilliseconds)
            let timeout: Duration
            if let started = batchStarted {
                timeout = max(.zero, started + interval - .now)
            } else {
                timeout = .milliseconds(100)
            }
            _ = try consumer.poll(max: max(1, configuration.store.batchSize - batchEvents), timeout: timeout) {
                handle($0)
            }
            if let fatal { throw fatal }
            let due = batchStarted.map { ContinuousClock.now - $0 >= interval } ?? false
            if batchEvents >= configuration.store.batchSize || due {
                try commitBatch()
            }
            try serviceProducer(wait: .zero)
            try housekeeping()
        }
        try shutdown()
    }

    private func shutdown() throws {
        logger.info("stopping: committing the last batch and flushing the producer")
        try commitBatch()
        let deadline = ContinuousClock.now + .seconds(5)
        while !inFlight.isEmpty, ContinuousClock.now < deadline {
            try serviceProducer(wait: .milliseconds(50))
        }
        try commitBatch()
        try commitToKafka(force: true)
        try consumer.close()
        try store.checkpoint()
        lock.release()
        if !inFlight.isEmpty {
            logger.warning("\(inFlight.count) outbox rows not yet delivered; they are re-sent on the next start")
        }
    }

    // MARK: per message

    private func handle(_ message: KafkaMessageView) {
        if batchStarted == nil { batchStarted = .now }
        // Messages arrive in runs per partition: offsets and counts are kept for the current run and folded into
        // the per-partition maps when the partition changes, instead of hashing a topic name per message.
        if message.partition != currentRun.partition || message.topic != currentRun.topic {
            flushRun()
            currentRun = Run(topic: message.topic, partition: message.partition)
        }
        currentRun.nextOffset = message.offset + 1
        currentRun.count += 1
        batchEvents += 1
        switch decoder.decode(message.value) {
        case .success(let event):
            do {
                try apply(event, partition: message.partition, kafkaTimestamp: message.timestamp)
            } catch {
                fatal = error
            }
        case .failure(let rejection):
            deadLetter(message, rejection)
        }
    }

    /// Folds the current run of messages from one partition into the batch's offsets and counters.
    private func flushRun() {
        guard currentRun.count > 0 else { return }
        let topicPartition = TopicPartition(topic: currentRun.topic, partition: currentRun.partition)
        pendingOffsets[topicPartition] = currentRun.nextOffset
        counters.events += currentRun.count
        counters.byPartition[topicPartition, default: 0] += currentRun.count
        currentRun.count = 0
    }

    private func apply(_ event: Event, partition: Int32, kafkaTimestamp: Int64?) throws {
        let id = event.customerID
        // Hot path: the customer is cached and is updated in place, without copying its record.
        let cached = cache.modify(id) { record in
            record.partition = partition
            return segmentation.apply(event, to: &record)
        }
        let outcome: Segmentation.Outcome
        if let cached {
            outcome = cached
        } else {
            var record = try loadRecord(id, partition: partition)
            record.partition = partition
            outcome = segmentation.apply(event, to: &record)
            keep(record)
        }
        switch outcome {
        case .duplicate:
            counters.duplicates += 1
        case .applied(let change, let initialised):
            dirty.insert(id)
            if let change { add(change, partition: partition, trigger: kafkaTimestamp) }
            if initialised { try assignPending() }
            reevaluationBudget += configuration.segmentation.reevaluationsPerEvent
        }
    }

    private func deadLetter(_ message: KafkaMessageView, _ rejection: EventRejection) {
        counters.invalid[rejection.code.rawValue, default: 0] += 1
        let source = "\(message.topic)/\(message.partition)/\(message.offset)"
        batch.outbox.append(OutboxMessage(
            eventID: "dlq:\(source)", customerID: "", partition: message.partition,
            topic: configuration.kafka.deadLetterTopic, key: message.key.map { Array($0) },
            payload: Array(message.value),
            headers: [("segmenter.error", Array(rejection.message.utf8)), ("segmenter.source", Array(source.utf8))],
            createdAt: Self.wallClock()))
    }

    private func loadRecord(_ id: String, partition: Int32) throws -> CustomerRecord {
        if let cached = cache.get(id) { return cached }
        if let evicted = evictedDirty[id] { return evicted }
        guard let stored = try store.customer(id) else {
            return segmentation.newRecord(customerID: id, partition: partition)
        }
        return try record(from: stored)
    }

    private func record(from stored: StoredCustomer) throws -> CustomerRecord {
        try CustomerRecord(stored: stored, layout: segmentation.layout)
    }

    private func keep(_ record: CustomerRecord) {
        dirty.insert(record.customerID)
        if let evicted = cache.put(record.customerID, record), dirty.contains(evicted.key) {
            evictedDirty[evicted.key] = evicted.value
        }
    }

    private func add(_ change: SegmentChange, partition: Int32, trigger kafkaTimestamp: Int64?) {
        let now = Self.wallClock()
        batch.outbox.append(OutboxMessage(
            eventID: change.eventID, customerID: change.customerID, partition: partition,
            topic: configuration.kafka.changesTopic, key: Array(change.customerID.utf8),
            payload: Array(change.jsonLine(emittedAt: now).utf8), headers: [], createdAt: now))
        batch.transitions.append(Transition(
            customerID: change.customerID, seq: change.sequence, fromSegment: change.previous?.id,
            toSegment: change.segment.id, at: change.at, cause: change.cause.rawValue))
        if let kafkaTimestamp { triggerTimestamps[change.eventID] = kafkaTimestamp }
        counters.changes += 1
        let from = change.previous.map { String($0.id) } ?? "none"
        counters.transitions["\(from)→\(change.segment.id)", default: 0] += 1
        if let previous = change.previous { counters.sizes[previous.id, default: 0] -= 1 }
        counters.sizes[change.segment.id, default: 0] += 1
        counters.recent.append(.init(
            customerID: change.customerID, from: change.previous?.name, to: change.segment.name,
            cause: change.cause.rawValue, at: change.at))
        if counters.recent.count > 20 { counters.recent.removeFirst(counters.recent.count - 20) }
    }

    /// After initialisation: every customer seen before the model existed gets its first segment.
    private func assignPending() throws {
        for id in segmentation.pendingCustomers {
            var record = try loadRecord(id, partition: 0)
            if let change = segmentation.reevaluate(&record, cause: .model, learn: false) {
                keep(record)
                add(change, partition: record.partition, trigger: nil)
            }
        }
        segmentation.pendingCustomers.removeAll()
    }

    /// Round robin over the store: re-assign a bounded number of customers under the current model per batch.
    private func reevaluateRoundRobin() throws {
        guard segmentation.kmeans.isInitialised, reevaluationBudget >= 1 else { return }
        let count = Int(reevaluationBudget)
        reevaluationBudget -= Double(count)
        let stored = try store.customers(afterID: reevaluationCursor, limit: count)
        for row in stored {
            var record = try cache.peek(row.customerID) ?? evictedDirty[row.customerID] ?? record(from: row)
            if let change = segmentation.reevaluate(&record, learn: true) {
                keep(record)
                add(change, partition: record.partition, trigger: nil)
            }
        }
        reevaluationCursor = stored.count < count ? nil : stored.last?.customerID
        batch.metadata["reevaluation_cursor"] = reevaluationCursor ?? ""
        counters.reevaluated += Int64(stored.count)
        if reevaluationCursor == nil { counters.reevaluationPasses += 1 }
    }

    /// Customers whose stored timer is due by the watermark are re-evaluated (cause `timer`); every customer
    /// written by this batch then gets its next timer. Both are committed with the batch, so a crash neither loses
    /// nor doubles a timer move.
    private func fireTimers() throws {
        guard segmentation.kmeans.isInitialised, segmentation.watermark != .min else { return }
        let due = try store.customersDue(before: segmentation.watermark + 1, limit: 5_000)
        for row in due {
            var record = try cache.peek(row.customerID) ?? evictedDirty[row.customerID] ?? record(from: row)
            record.timerDueAt = nil
            if let change = segmentation.reevaluate(&record, cause: .timer, learn: false) {
                add(change, partition: record.partition, trigger: nil)
            }
            keep(record)
        }
    }

    // MARK: operator commands

    private struct PendingCommand {
        var command: ModelCommand
        var reply: @Sendable (Result<String, Error>) -> Void
    }

    // An NSLock rather than a Mutex: a noncopyable stored property in this class's throwing init crashes the
    // Swift 6.3.1 optimiser (CopyPropagation) in release builds.
    private var commands: [PendingCommand] = []
    private let commandsLock = NSLock()
    private var replies: [(@Sendable (Result<String, Error>) -> Void, Result<String, Error>)] = []

    /// Queues an operator command for the pipeline thread; `reply` is called once the batch carrying its effect
    /// has committed (or with the error that prevented it).
    public func submit(_ command: ModelCommand, reply: @escaping @Sendable (Result<String, Error>) -> Void) {
        commandsLock.withLock { commands.append(PendingCommand(command: command, reply: reply)) }
    }

    private func applyCommands() throws {
        let pending = commandsLock.withLock {
            defer { commands.removeAll() }
            return commands
        }
        for item in pending {
            let result = Result {
                try ModelAdministration.apply(item.command, to: &segmentation, store: store) { id in
                    self.cache.peek(id) ?? self.evictedDirty[id]
                }
            }
            replies.append((item.reply, result))
            if case .success = result { modelChangedByCommand = true }
        }
    }

    private var modelChangedByCommand = false

    // MARK: per batch

    private func commitBatch() throws {
        flushRun()
        try applyCommands()
        if configuration.clock == .wall { segmentation.advanceWatermark(to: Self.wallClock()) }
        try reevaluateRoundRobin()
        try fireTimers()
        guard !dirty.isEmpty || !batch.outbox.isEmpty || !pendingOffsets.isEmpty || !delivered.isEmpty
            || modelChangedByCommand || !replies.isEmpty
        else {
            batchStarted = nil
            return
        }
        modelChangedByCommand = false
        for id in dirty {
            guard var record = cache.peek(id) ?? evictedDirty[id] else { continue }
            segmentation.refreshTimer(&record)
            if cache.contains(id) { cache.put(id, record) } else { evictedDirty[id] = record }
            batch.customers.append(StoredCustomer(
                customerID: record.customerID, partition: record.partition, state: record.state.encoded(layout: segmentation.layout),
                segmentID: record.segmentID, segmentSince: record.segmentSince,
                transitionSeq: record.transitionSeq, eventCount: record.eventCount,
                lastEventAt: record.state.lastEventAt, timerDueAt: record.timerDueAt))
        }
        let now = Self.wallClock()
        let model = StoredModel(version: segmentation.version, savedAt: now, blob: segmentation.snapshot().encoded())
        batch.model = model
        if segmentation.version != savedModelVersion, segmentation.version > 0 {
            batch.modelSnapshot = model
        }
        for (topicPartition, offset) in pendingOffsets {
            batch.offsets[TopicPartitionKey(topic: topicPartition.topic, partition: topicPartition.partition)] = offset
        }
        batch.deleteOutboxIDs = delivered
        let started = ContinuousClock.now
        do {
            try store.commit(batch)
        } catch {
            for (reply, _) in replies { reply(.failure(error)) }
            replies.removeAll()
            throw error
        }
        for (reply, result) in replies { reply(result) }
        replies.removeAll()
        let seconds = (ContinuousClock.now - started).seconds
        savedModelVersion = segmentation.version
        durableOffsets.merge(pendingOffsets) { $1 }
        pendingOffsets.removeAll(keepingCapacity: true)
        dirty.removeAll(keepingCapacity: true)
        evictedDirty.removeAll(keepingCapacity: true)
        delivered.removeAll(keepingCapacity: true)
        batch.removeAll(keepingCapacity: true)
        batchEvents = 0
        batchStarted = nil
        publishStatus(commitSeconds: seconds)
        try publishOutbox()
        try commitToKafka(force: false)
    }

    private func publishStatus(commitSeconds: Double?) {
        let snapshot = counters
        counters.byPartition.removeAll(keepingCapacity: true)
        counters.invalid.removeAll(keepingCapacity: true)
        counters.transitions.removeAll(keepingCapacity: true)
        counters.eventToChange.removeAll(keepingCapacity: true)
        counters.events = 0
        counters.duplicates = 0
        counters.changes = 0
        counters.reevaluated = 0
        counters.reevaluationPasses = 0
        let drift = segmentation.driftPerHour
        let frozen = segmentation.frozen
        let names = segmentation.names
        let version = segmentation.version
        let inertia = segmentation.kmeans.inertia
        status.update { s in
            s.eventsTotal += snapshot.events
            for (tp, n) in snapshot.byPartition { s.eventsByPartition[tp.description, default: 0] += n }
            for (reason, n) in snapshot.invalid { s.invalidByReason[reason, default: 0] += n }
            for (transition, n) in snapshot.transitions { s.changesByTransition[transition, default: 0] += n }
            s.duplicates += snapshot.duplicates
            s.changesTotal += snapshot.changes
            s.segmentSizes = snapshot.sizes
            s.segmentNames = names
            s.modelVersion = version
            s.inertia = inertia
            s.driftPerHour = drift
            s.frozen = frozen
            s.reevaluatedTotal += snapshot.reevaluated
            s.reevaluationPasses += snapshot.reevaluationPasses
            s.recentChanges = snapshot.recent
            s.eventToChangeSecondsSamples.append(contentsOf: snapshot.eventToChange)
            if let commitSeconds {
                s.batches += 1
                s.lastBatchCommitSeconds = commitSeconds
                s.commitSecondsSamples.append(commitSeconds)
            }
        }
    }

    // MARK: outbox

    /// Hands every committed, not yet queued outbox row to the producer; the row id is the delivery token.
    private func publishOutbox() throws {
        while true {
            let rows = try store.pendingOutbox(limit: 5_000, afterID: outboxQueuedThrough)
            for row in rows {
                try produce(row)
                outboxQueuedThrough = row.id
            }
            if rows.count < 5_000 { break }
            try serviceProducer(wait: .zero)
        }
    }

    private func produce(_ row: OutboxRow) throws {
        let message = row.message
        try producer.produce(
            topic: message.topic, key: message.key, value: message.payload,
            headers: message.headers.map { KafkaHeader(key: $0.0, value: $0.1) }, token: UInt64(row.id))
        inFlight[UInt64(row.id)] = triggerTimestamps.removeValue(forKey: message.eventID)
    }

    private func serviceProducer(wait: Duration) throws {
        let now = Self.wallClock()
        var failed = false
        for report in producer.pollDeliveries(timeout: wait) {
            guard let trigger = inFlight.removeValue(forKey: report.token) else { continue }
            if let error = report.error {
                failed = true
                logger.warning("delivery failed; will retry", metadata: [
                    "kafka.topic": "\(report.topic)", "error": "\(error.message)",
                ])
                outboxQueuedThrough = min(outboxQueuedThrough, Int64(report.token) - 1)
                continue
            }
            delivered.append(Int64(report.token))
            if let trigger { counters.eventToChange.append(Double(max(0, now - trigger)) / 1000) }
        }
        if failed {
            retryAfter = .now + retryDelay
            retryDelay = min(retryDelay * 2, .seconds(30))
        }
    }

    private func commitToKafka(force: Bool) throws {
        guard force || ContinuousClock.now - lastKafkaCommit >= .seconds(1) else { return }
        lastKafkaCommit = .now
        let owned = Set(assigned)
        let offsets = durableOffsets.filter { owned.contains($0.key) }
        guard !offsets.isEmpty else { return }
        do {
            try consumer.commit(offsets)
        } catch {
            logger.debug("committing offsets to Kafka failed (only lag tools use them)", metadata: [
                "error": "\(error)",
            ])
        }
    }

    private func housekeeping() throws {
        if let retryAfter, ContinuousClock.now >= retryAfter, inFlight.isEmpty || true {
            self.retryAfter = nil
            let resend = try store.pendingOutbox(limit: 5_000, afterID: outboxQueuedThrough)
                .filter { inFlight[UInt64($0.id)] == nil }
            for row in resend { try produce(row) }
            if let last = resend.last { outboxQueuedThrough = max(outboxQueuedThrough, last.id) }
        } else if retryAfter == nil, inFlight.isEmpty {
            retryDelay = .milliseconds(500)
        }
        let idleSweepDue = configuration.clock == .wall && ContinuousClock.now - lastIdleSweep >= .seconds(1)
        let commandsWaiting = commandsLock.withLock { !commands.isEmpty }
        if batchStarted == nil,
           commandsWaiting || idleSweepDue || (!delivered.isEmpty && (delivered.count >= 1_000 || inFlight.isEmpty))
        {
            lastIdleSweep = .now
            try commitBatch()
        }
        guard ContinuousClock.now - lastStatusRefresh >= .seconds(1) else { return }
        lastStatusRefresh = .now
        var positions: [TopicPartition: Int64] = [:]
        for topicPartition in assigned {
            positions[topicPartition] = pendingOffsets[topicPartition] ?? durableOffsets[topicPartition] ?? 0
        }
        let lag = consumer.lag(for: positions)
        let pending = (try? store.outboxCount()) ?? 0
        let names = assigned.map(\.description)
        status.update { s in
            s.lagByPartition = Dictionary(uniqueKeysWithValues: lag.map { ($0.key.description, $0.value) })
            s.assignedPartitions = names
            s.outboxPending = pending
        }
    }

    // MARK: rebalance

    public func partitionsRevoked(_ partitions: [TopicPartition]) {
        do {
            try commitBatch()
            try commitToKafka(force: true)
        } catch {
            fatal = error
        }
        cache = LRUCache(capacity: configuration.store.cacheSize)
        let revoked = Set(partitions)
        assigned.removeAll { revoked.contains($0) }
        for topicPartition in partitions { durableOffsets.removeValue(forKey: topicPartition) }
        logger.info("partitions revoked", metadata: ["kafka.partitions": "\(partitions.count)"])
    }

    public func partitionsAssigned(_ partitions: [TopicPartition]) -> [TopicPartition: Int64] {
        assigned.append(contentsOf: partitions)
        var starts: [TopicPartition: Int64] = [:]
        do {
            let stored = try store.offsets()
            for topicPartition in partitions {
                let key = TopicPartitionKey(topic: topicPartition.topic, partition: topicPartition.partition)
                if let offset = stored[key] {
                    starts[topicPartition] = offset
                    durableOffsets[topicPartition] = offset
                }
            }
        } catch {
            fatal = error
        }
        logger.info("partitions assigned", metadata: [
            "kafka.partitions": "\(partitions.count)", "kafka.from_store": "\(starts.count)",
        ])
        return starts
    }

    static func wallClock() -> Int64 {
        Int64(Date().timeIntervalSince1970 * 1000)
    }
}
