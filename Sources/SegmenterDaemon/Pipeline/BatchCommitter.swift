import Dispatch
import SegmenterCore
import SegmenterStore

/// The second stage of the pipeline, on a thread of its own: it writes a batch to SQLite in one transaction and
/// hands the batch's outbox rows to the producer, while the pipeline thread decodes and applies the next batch.
/// Two cores, two stages; the order per batch stays the same — state, outbox and offsets in one transaction, then
/// publishing — and the pipeline commits the batch's offsets to Kafka only after ``finish()`` returned.
///
/// The changes' JSON is rendered here too, into one reused buffer, together with their transition rows: rendering
/// is per-change work the pipeline thread need not do.
///
/// At most one batch is in flight: ``submit(_:entries:)`` requires the previous one finished. The outbox
/// publisher and the store's writer belong to whichever thread holds them: this stage's thread while a batch is
/// in flight, the pipeline thread otherwise (``publisher`` checks it).
final class BatchCommitter: @unchecked Sendable {
    /// One outbox row of a batch, in the order the pipeline produced them.
    enum Entry {
        /// A segment change of a customer in `partition`, caused by an event with Kafka timestamp `trigger`.
        case change(SegmentChange, partition: Int32, trigger: Int64?)
        /// A message ready to publish (a dead letter).
        case message(OutboxMessage)
    }

    /// What a finished batch reports back.
    struct Outcome {
        /// Seconds the SQLite transaction took.
        var commitSeconds: Double
    }

    private let store: StateStore
    private let sink: any OutboxSink
    private let changesTopic: String
    private var outbox: OutboxPublisher
    /// Where each change's JSON is rendered before it is copied into its outbox row.
    private var rendering: [UInt8] = []
    private let queue = DispatchQueue(label: "segmenter.batch-commit", qos: .userInitiated)
    private let group = DispatchGroup()
    /// Written by the stage's thread before it leaves the group, read by the pipeline thread after waiting on it.
    private var result: Result<Outcome, Error>?
    /// The batch handed back for reuse, so that steady-state batches keep their storage.
    private var spare = StoreBatch()
    private(set) var inFlight = false

    init(store: StateStore, sink: any OutboxSink, changesTopic: String, publisher: OutboxPublisher) {
        self.store = store
        self.sink = sink
        self.changesTopic = changesTopic
        outbox = publisher
    }

    /// The outbox publisher, for the pipeline thread while no batch is in flight.
    var publisher: OutboxPublisher {
        get {
            precondition(!inFlight, "the outbox publisher was read while a batch was in flight")
            return outbox
        }
        _modify {
            precondition(!inFlight, "the outbox publisher was changed while a batch was in flight")
            yield &outbox
        }
    }

    /// True when the batch in flight has finished (``finish()`` will not wait).
    var isDone: Bool { !inFlight || group.wait(timeout: .now()) == .success }

    /// Starts committing `batch` with the outbox rows `entries` (the caller's batch is swapped for an empty one with
    /// storage to reuse).
    func submit(_ batch: inout StoreBatch, entries: [Entry]) {
        precondition(!inFlight, "a batch was submitted while the previous one was in flight")
        var job = StoreBatch()
        swap(&job, &spare)
        swap(&job, &batch)
        job.deleteOutboxIDs = outbox.takeDelivered()
        inFlight = true
        group.enter()
        let handed = job
        queue.async { [self] in
            defer { group.leave() }
            var job = handed
            result = Result { try run(&job, entries: entries) }
            job.removeAll(keepingCapacity: true)
            spare = job
        }
    }

    /// Waits for the batch in flight; returns nil when there was none, rethrows its failure.
    @discardableResult
    func finish() throws -> Outcome? {
        guard inFlight else { return nil }
        group.wait()
        inFlight = false
        defer { result = nil }
        return try result?.get()
    }

    private func run(_ batch: inout StoreBatch, entries: [Entry]) throws -> Outcome {
        let triggers = render(entries, into: &batch)
        let started = ContinuousClock.now
        let ids = try store.commit(batch)
        let seconds = (ContinuousClock.now - started).seconds
        try outbox.publish(committed: batch.outbox, ids: ids, triggers: triggers, to: sink, store: store)
        try outbox.serviceDeliveries(from: sink, wait: .zero, now: .now, wallClock: Pipeline.wallClock())
        return Outcome(commitSeconds: seconds)
    }

    /// Appends an outbox row per entry to `batch` (and a transition row per change); returns each row's trigger.
    private func render(_ entries: [Entry], into batch: inout StoreBatch) -> [Int64?] {
        let now = Pipeline.wallClock()
        var triggers: [Int64?] = []
        triggers.reserveCapacity(entries.count)
        for entry in entries {
            switch entry {
            case .change(let change, let partition, let trigger):
                rendering.removeAll(keepingCapacity: true)
                change.appendJSONLine(emittedAt: now, to: &rendering)
                batch.outbox.append(OutboxMessage(
                    eventID: change.eventID, customerID: change.customerID, partition: partition,
                    topic: changesTopic, key: Array(change.customerID.utf8), payload: Array(rendering), headers: [],
                    createdAt: now))
                // A last change (segment nil) ends a customer whose history is deleted with it.
                if let segment = change.segment {
                    batch.transitions.append(Transition(
                        customerID: change.customerID, seq: change.sequence, fromSegment: change.previous?.id,
                        toSegment: segment.id, at: change.at, cause: change.cause.rawValue))
                }
                triggers.append(trigger)
            case .message(let message):
                batch.outbox.append(message)
                triggers.append(nil)
            }
        }
        return triggers
    }
}
