/// The one engine behind `replay` and the daemon (DESIGN §1): it owns everything that happens to decoded events
/// in order — apply, first assignments once the model initialises, round-robin re-evaluation, timers, model
/// upkeep and change sequencing — and returns the changes as values.
///
/// Its output is a function of the applied events in order and the configuration only. Work that is not tied to
/// one event (re-evaluation, due timers, next timers) runs at a *tick* every ``SegmentationConfiguration/tickEvents``
/// applied events, never at a batch or poll boundary, so batch size, batch interval and timing cannot change
/// it. The daemon persists ``progress`` with every commit so that a restart resumes the same ticks.
/// Operator commands and `model.clock: wall` are the deliberate exceptions: they act when they happen.
public struct SegmentationEngine: Sendable {
    /// Where the engine is between ticks; stored with the daemon's state so a restart continues the same schedule.
    public struct Progress: Sendable, Hashable, Codable {
        /// Applied events since the last tick.
        public var appliedSinceTick = 0
        /// Re-evaluations owed (``SegmentationConfiguration/reevaluationsPerEvent`` per applied event).
        public var reevaluationBudget = 0.0
        /// The last customer the round robin re-evaluated; nil starts a new pass.
        public var cursor: CustomerWalkKey?
        /// The watermark at which the lifecycle model was last fitted; nil before the first fit.
        public var lifecycleFittedAt: Int64?
        /// The ordinal the next new customer gets (see ``CustomerWalkKey``).
        public var nextOrdinal: Int64 = 1
        /// The refinement sample's level (see ``CustomerSample``): raised as the shop grows so that the sample stays
        /// near ``SegmentationConfiguration/refineSample`` customers, lowered when it shrinks.
        public var sampleLevel = 0
        /// Customers applied since the last tick, whose next timer the tick computes.
        public var touched: Set<String> = []
        /// Applied events since the last refinement (set to the interval when the model initialises, so that the
        /// first tick after it refines).
        public var appliedSinceRefinement = 0
        /// Customers the last refinement read (its sample): refinements are at least four times this many applied
        /// events apart, so a refinement costs at most a quarter of a customer read (and a bounded share of Lloyd
        /// passes) per applied event however big the store grows.
        public var customersAtRefinement = 0

        public init() {}

        private enum CodingKeys: String, CodingKey {
            case appliedSinceTick, reevaluationBudget, walkCursor, touched, appliedSinceRefinement, customersAtRefinement
            case nextOrdinal, sampleLevel, lifecycleFittedAt
        }

        /// Progress stored before refinement existed decodes with no refinement owed.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            appliedSinceTick = try c.decode(Int.self, forKey: .appliedSinceTick)
            reevaluationBudget = try c.decode(Double.self, forKey: .reevaluationBudget)
            // Progress stored before walks followed ordinals had an id cursor: its pass starts over.
            cursor = try c.decodeIfPresent(CustomerWalkKey.self, forKey: .walkCursor)
            touched = try c.decode(Set<String>.self, forKey: .touched)
            appliedSinceRefinement = try c.decodeIfPresent(Int.self, forKey: .appliedSinceRefinement) ?? 0
            customersAtRefinement = try c.decodeIfPresent(Int.self, forKey: .customersAtRefinement) ?? 0
            nextOrdinal = try c.decodeIfPresent(Int64.self, forKey: .nextOrdinal) ?? 1
            sampleLevel = try c.decodeIfPresent(Int.self, forKey: .sampleLevel) ?? 0
            lifecycleFittedAt = try c.decodeIfPresent(Int64.self, forKey: .lifecycleFittedAt)
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(appliedSinceTick, forKey: .appliedSinceTick)
            try c.encode(reevaluationBudget, forKey: .reevaluationBudget)
            try c.encodeIfPresent(cursor, forKey: .walkCursor)
            try c.encode(touched, forKey: .touched)
            try c.encode(appliedSinceRefinement, forKey: .appliedSinceRefinement)
            try c.encode(customersAtRefinement, forKey: .customersAtRefinement)
            try c.encode(nextOrdinal, forKey: .nextOrdinal)
            try c.encode(sampleLevel, forKey: .sampleLevel)
            try c.encodeIfPresent(lifecycleFittedAt, forKey: .lifecycleFittedAt)
        }
    }

    /// Counts since the caller last read them (``takeCounters()``).
    public struct Counters: Sendable, Equatable {
        public var reevaluated: Int64 = 0
        public var reevaluationPasses: Int64 = 0
        public var timersFired: Int64 = 0
        public var refinements: Int64 = 0
        public init() {}
    }

    public var segmentation: Segmentation
    /// Rule audiences and computed traits, evaluated where customers change (see `SegmentationEngine+Audiences`).
    public var audiences = AudienceRules.none
    public internal(set) var progress: Progress
    /// What the last refinement did (not persisted: it is for status and reports).
    public private(set) var lastRefinement: Segmentation.RefinementReport?
    var changes: [SegmentChange] = []
    var audienceChanges: [AudienceChange] = []
    /// Identity records to send through the input topic (see `SegmentationEngine+Identity`).
    var identityRecords: [IdentityRecord] = []
    private var counters = Counters()

    public init(segmentation: Segmentation, progress: Progress = .init()) {
        self.segmentation = segmentation
        self.progress = progress
    }

    public var tickEvents: Int { segmentation.configuration.tickEvents }

    /// True when the changes produced since the last ``takeChanges(_:)`` (or audience changes since the last
    /// ``takeAudienceChanges(_:)``) are not empty.
    public var hasChanges: Bool { !changes.isEmpty || !audienceChanges.isEmpty || !identityRecords.isEmpty }

    /// Hands every change produced since the last call to `body`, in order, and forgets them.
    public mutating func takeChanges(_ body: (SegmentChange) throws -> Void) rethrows {
        guard !changes.isEmpty else { return }
        defer { changes.removeAll(keepingCapacity: true) }
        for change in changes { try body(change) }
    }

    public mutating func takeCounters() -> Counters {
        defer { counters = Counters() }
        return counters
    }

    /// Applies one decoded event to its customer. Returns false when the event was a duplicate (nothing
    /// applied). Completing the initial sample assigns every customer seen so far; every `tickEvents` applied
    /// events a tick runs.
    @discardableResult
    public mutating func apply<D: CustomerDirectory>(
        _ event: Event, partition: Int32, in directory: inout D
    ) throws -> Bool {
        let outcome = try withCustomer(event.customerID, partition: partition, in: &directory) { record, engine in
            let outcome = engine.segmentation.apply(event, to: &record)
            if case .applied = outcome { engine.observeAudiences(event, &record) }
            return outcome
        }
        guard case .applied(let change, let initialised) = outcome else { return false }
        progress.touched.insert(event.customerID)
        if let change { changes.append(change) }
        if initialised {
            progress.appliedSinceRefinement = segmentation.configuration.refineEvery
            try fitLifecycle(in: &directory)
            try assignPending(in: &directory)
        }
        progress.reevaluationBudget += segmentation.configuration.reevaluationsPerEvent
        progress.appliedSinceTick += 1
        if progress.appliedSinceTick >= tickEvents { try tick(in: &directory) }
        return true
    }

    /// Runs `body` on the record of `id` in place (moved to `partition`), creating it with the next ordinal when the
    /// customer is new: the one place ordinals are handed out, so walks follow the order customers were first seen.
    mutating func withCustomer<D: CustomerDirectory, R>(
        _ id: String, partition: Int32, in directory: inout D,
        _ body: (inout CustomerRecord, inout SegmentationEngine) throws -> R
    ) throws -> R {
        let ordinal = progress.nextOrdinal
        var created = false
        let result = try directory.withRecord(
            id,
            make: {
                created = true
                return segmentation.newRecord(customerID: id, partition: partition, ordinal: ordinal)
            }
        ) { record in
            record.partition = partition
            return try body(&record, &self)
        }
        if created { progress.nextOrdinal += 1 }
        return result
    }

    /// End of a finite stream (replay): when fewer events than `init_sample` arrived, the model initialises from
    /// what it has and everyone seen gets a segment. A stream long enough to initialise is left as the daemon
    /// would leave it after the same events: no extra tick.
    public mutating func finish<D: CustomerDirectory>(in directory: inout D) throws {
        if segmentation.initialiseEarly() {
            try fitLifecycle(in: &directory)
            try assignPending(in: &directory)
        }
    }

    /// Event time between two fits of the lifecycle model: a customer's rhythm is measured in days, and a fit costs
    /// a bounded sample's worth of work, so a weekly refit keeps the model current at a cost that does not grow with
    /// the shop (and is the same in replay and the daemon, which tick alike).
    static let lifecycleRefitMs: Int64 = 7 * 86_400_000

    /// Fits the lifecycle model on the engine's sample (thinned to ``Segmentation/lifecycleSampleLimit``) at the
    /// watermark: once when the model initialises, so that short streams get predictions too, and then at the first
    /// tick a week of event time after the last fit. It does not move the refinement schedule.
    private mutating func fitLifecycle<D: CustomerDirectory>(in directory: inout D) throws {
        let capacity = segmentation.configuration.refineSample
        var level = progress.sampleLevel
        var members = try directory.sample(minimumLevel: level)
        CustomerSample.thin(&members, level: &level, capacity: capacity)
        segmentation.fitLifecycle(on: members)
        progress.lifecycleFittedAt = segmentation.watermark
    }

    /// The work not tied to one event: round-robin re-evaluation (learned, so quiet customers shape the model),
    /// due timers (cause `timer`), then the next timer of every customer touched since the last tick. Runs on its
    /// own every `tickEvents` applied events; the daemon also calls it when `model.clock: wall` moved the
    /// watermark on a quiet stream.
    public mutating func tick<D: CustomerDirectory>(in directory: inout D) throws {
        progress.appliedSinceRefinement += progress.appliedSinceTick
        progress.appliedSinceTick = 0
        let every = segmentation.configuration.refineEvery
        if every > 0, segmentation.kmeans.isInitialised, !segmentation.frozen, !segmentation.following,
           progress.appliedSinceRefinement >= max(every, 4 * progress.customersAtRefinement) {
            progress.appliedSinceRefinement = 0
            try refine(in: &directory)
        }
        if segmentation.kmeans.isInitialised, segmentation.watermark != .min,
           progress.lifecycleFittedAt.map({ segmentation.watermark - $0 >= Self.lifecycleRefitMs }) ?? true {
            try fitLifecycle(in: &directory)
        }
        try reevaluateRoundRobin(in: &directory)
        try fireTimers(in: &directory)
        for id in progress.touched.sorted(by: { $0.precedesInByteOrder($1) }) {
            guard var record = try directory.record(id) else { continue }
            let due = record.timerDueAt
            refreshTimers(&record)
            if record.timerDueAt != due { try directory.update(record) }
        }
        progress.touched.removeAll(keepingCapacity: true)
    }

    /// Lloyd passes over the current vectors of the customers in the sample (``CustomerSample``), at most about
    /// ``SegmentationConfiguration/refineSample`` of them: the level rises when the shop has outgrown it and falls
    /// when the sample has become too small. Customers then follow the refined centers through the round-robin
    /// re-evaluation and their own events, not all at once.
    public mutating func refine<D: CustomerDirectory>(in directory: inout D) throws {
        let capacity = segmentation.configuration.refineSample
        var members = try directory.sample(minimumLevel: progress.sampleLevel)
        progress.customersAtRefinement = members.count
        CustomerSample.thin(&members, level: &progress.sampleLevel, capacity: capacity)
        if members.count < capacity / 4, progress.sampleLevel > 0 { progress.sampleLevel -= 1 }
        let current = segmentation
        let sample = members.filter { $0.eventCount > 0 }.map { current.rawVector(of: $0) }
        // k-means++ restarts matter while the model is young; later the centers continue from where they are, and
        // restarts are tried at every fourth model version only (the version, not a counter: replay and the daemon
        // must decide alike).
        let restarts = segmentation.version <= 4 || segmentation.version % 4 == 0 ? 4 : 0
        guard let report = segmentation.refine(
            raw: sample, maxPasses: segmentation.configuration.refinePasses, restarts: restarts)
        else { return }
        lastRefinement = report
        counters.refinements += 1
    }

    mutating func assignPending<D: CustomerDirectory>(in directory: inout D) throws {
        for id in segmentation.pendingCustomers {
            guard var record = try directory.record(id),
                  let change = segmentation.reevaluate(&record, cause: .model, learn: false)
            else { continue }
            evaluateAudiences(&record, cause: .timer)
            try directory.update(record)
            progress.touched.insert(id)
            changes.append(change)
        }
        segmentation.pendingCustomers.removeAll()
    }

    private mutating func reevaluateRoundRobin<D: CustomerDirectory>(in directory: inout D) throws {
        guard segmentation.kmeans.isInitialised else {
            progress.reevaluationBudget = 0
            return
        }
        let count = Int(progress.reevaluationBudget)
        guard count >= 1 else { return }
        progress.reevaluationBudget -= Double(count)
        let due = try directory.customers(after: progress.cursor, limit: count)
        // A customer with no segment yet is waiting for their first session to end: their timer decides.
        for var record in due where record.segmentID != nil {
            guard let change = segmentation.reevaluate(&record, learn: true) else { continue }
            evaluateAudiences(&record, cause: .timer)
            try directory.update(record)
            progress.touched.insert(record.customerID)
            changes.append(change)
        }
        progress.cursor = due.count < count ? nil : due.last?.walkKey
        counters.reevaluated += Int64(due.count)
        if progress.cursor == nil { counters.reevaluationPasses += 1 }
    }

    private mutating func fireTimers<D: CustomerDirectory>(in directory: inout D) throws {
        guard segmentation.kmeans.isInitialised, segmentation.watermark != .min else { return }
        for var record in try directory.customersDue(through: segmentation.watermark) {
            record.timerDueAt = nil
            counters.timersFired += 1
            let cause: SegmentChange.Cause = record.segmentID == nil ? .session : .timer
            if let change = segmentation.reevaluate(&record, cause: cause, learn: false) {
                changes.append(change)
            }
            evaluateAudiences(&record, cause: .timer)
            try directory.update(record)
            progress.touched.insert(record.customerID)
        }
    }
}
