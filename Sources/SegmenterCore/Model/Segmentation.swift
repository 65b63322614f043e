/// Settings of the segmentation (the `model` and `features` configuration sections).
public struct SegmentationConfiguration: Sendable, Hashable {
    public var features: FeatureSpec
    public var kmeans: KMeansConfiguration
    public var assigner: SegmentAssigner
    /// Half-life, in observations, of the standardiser's statistics; nil keeps them all. Default: 200,000.
    public var standardizerHalfLife: Double?
    /// Segment names set by the user, by segment id; they win over generated names.
    public var names: [Int: String]
    /// A new model version (and snapshot) every this many learned vectors. Default: 100,000.
    public var versionEvery: UInt64
    /// Customers re-evaluated under the current model per applied event (round robin over all customers). The
    /// re-evaluated vectors are learned too, so the model sees quiet customers, not only active ones.
    /// Default: 0.25.
    public var reevaluationsPerEvent: Double
    /// A new customer's first segment is decided when their first session ends (30 minutes of event time without an
    /// event), on everything the session showed, with cause `session`; a session's first page view does not send
    /// them through three segments by its checkout. False assigns at the first event (the behaviour before issue
    /// #11). Default: true.
    public var firstSegmentAtSessionEnd: Bool
    /// Applied events between two Lloyd refinements of the centers over the customers' current vectors (rounded up
    /// to whole ticks, and at least as many as there are customers, so that the walk costs at most one customer
    /// read per event; the first one runs at the first tick after initialisation); 0 turns refinement off. With
    /// refinement on, the centers and the standardiser learn from the customers at each refinement (and the round
    /// robin), not from every event (the behaviour before issue #11). Default: 10,000.
    public var refineEvery: Int
    /// About how many customers' vectors one refinement runs over: the engine's sample (``CustomerSample``) is kept
    /// between a quarter of this and this many customers. Refinements are at least four times the sample's size in
    /// applied events apart, so a larger sample refines less often at the same cost per event. Default: 20,000.
    public var refineSample: Int
    /// Most Lloyd passes per refinement (fewer when no customer changes center). Default: 20.
    public var refinePasses: Int
    /// Applied events between two ticks of the ``SegmentationEngine`` (re-evaluation, due timers, next timers).
    /// The engine's output depends on it and on nothing about batches or timing. Default: 5,000.
    public var tickEvents: Int
    /// How far event times may stray from the stream before they are clamped (see ``EventTimeLimits``).
    public var eventTime: EventTimeLimits
    /// How input messages are read (`input.format`): the native event or a preset. It lives with the engine's
    /// configuration because replay and the daemon must decode a topic alike (DESIGN §1). Default: native.
    public var inputFormat: InputFormat
    /// Days ahead that `predictions` (expected orders and revenue) look (`predictions.horizon_days`). Default: 90.
    public var horizonDays: Double
    /// Thresholds of the lifecycle stages (the `lifecycle` section). Default: ``LifecyclePolicy``'s.
    public var lifecyclePolicy: LifecyclePolicy

    public init(
        features: FeatureSpec = .ecommerce(), kmeans: KMeansConfiguration = .init(),
        assigner: SegmentAssigner = .init(), standardizerHalfLife: Double? = 200_000, names: [Int: String] = [:],
        versionEvery: UInt64 = 100_000, reevaluationsPerEvent: Double = 0.25, tickEvents: Int = 5_000,
        eventTime: EventTimeLimits = .init(), inputFormat: InputFormat = .native, refineEvery: Int = 10_000,
        refineSample: Int = 20_000, refinePasses: Int = 20, firstSegmentAtSessionEnd: Bool = true,
        horizonDays: Double = 90, lifecyclePolicy: LifecyclePolicy = .init()
    ) {
        self.horizonDays = horizonDays
        self.lifecyclePolicy = lifecyclePolicy
        self.firstSegmentAtSessionEnd = firstSegmentAtSessionEnd
        self.tickEvents = tickEvents
        self.refineEvery = refineEvery
        self.refineSample = refineSample
        self.refinePasses = refinePasses
        self.features = features
        self.kmeans = kmeans
        self.assigner = assigner
        self.standardizerHalfLife = standardizerHalfLife
        self.names = names
        self.versionEvery = versionEvery
        self.reevaluationsPerEvent = reevaluationsPerEvent
        self.eventTime = eventTime
        self.inputFormat = inputFormat
    }

    /// The model as it was before issue #11: online learning from every event, no refinement, first segments at the
    /// first event. Kept to measure against (README "Segment quality").
    public static func online(features: FeatureSpec = .ecommerce()) -> Self {
        var c = SegmentationConfiguration(features: features)
        c.refineEvery = 0
        c.firstSegmentAtSessionEnd = false
        return c
    }

    /// Every problem, each naming its configuration field. Empty when valid.
    public func problems() -> [String] {
        var problems = features.problems() + kmeans.problems() + assigner.problems() + eventTime.problems()
        if let h = standardizerHalfLife, !(h.isFinite && h > 0) {
            problems.append("model.standardizer_half_life: \(h) must be > 0 (or omitted)")
        }
        if versionEvery == 0 { problems.append("model.version_every: must be > 0") }
        if tickEvents < 1 { problems.append("model.tick_events: \(tickEvents) must be at least 1") }
        if refineEvery < 0 { problems.append("model.refine_every: \(refineEvery) must be ≥ 0 (0 turns it off)") }
        if refineSample < 1 { problems.append("model.refine_sample: \(refineSample) must be at least 1") }
        if refinePasses < 1 { problems.append("model.refine_passes: \(refinePasses) must be at least 1") }
        if !(horizonDays.isFinite && horizonDays > 0) {
            problems.append("predictions.horizon_days: \(horizonDays) must be a number of days > 0 (default 90)")
        }
        if let problem = lifecyclePolicy.validationError() { problems.append(problem) }
        if !(reevaluationsPerEvent >= 0 && reevaluationsPerEvent <= 100) {
            problems.append("model.reevaluations_per_event: \(reevaluationsPerEvent) must be between 0 and 100")
        }
        return problems
    }
}

/// The pure heart of Segmenter: decode → apply → standardise → assign → learn, as one value with no I/O. The
/// daemon and `segmenter replay` drive the same instance type, so a backfill gives the answers the daemon gives.
/// Callers own customer records (in memory or in SQLite) and pass them in; every decision comes back as a value.
public struct Segmentation: Sendable {
    public enum Outcome: Sendable, Equatable {
        /// The event's id was among the customer's recent ids: nothing was applied.
        case duplicate
        /// The event was applied; `change` is set when the customer moved. `modelInitialised` is true when this
        /// event completed the initial sample: the caller must then ``reevaluate(_:cause:learn:)`` every customer
        /// in ``pendingCustomers`` (with cause `.model`) and clear it.
        case applied(change: SegmentChange?, modelInitialised: Bool)
    }

    public let configuration: SegmentationConfiguration
    public let layout: FeatureLayout
    public internal(set) var standardizer: Standardizer
    public internal(set) var kmeans: MiniBatchKMeans
    /// Largest (admitted) event time seen (epoch ms): features age against it.
    public internal(set) var watermark: Int64
    /// Recent raw event times; their median is the stream's robust "now" that event times are checked against.
    public internal(set) var recentEventTimes: RecentEventTimes
    /// Events applied at a clamped time because they were too far ahead of the stream (or the wall clock).
    public internal(set) var clampedAhead: UInt64 = 0
    /// Events applied at a clamped time because they were too far behind the stream.
    public internal(set) var clampedBehind: UInt64 = 0
    /// Every event applied at a clamped time (`segmenter_events_clamped_total`).
    public var clampedEvents: UInt64 { clampedAhead + clampedBehind }
    /// Increases at initialisation and every `versionEvery` learned vectors.
    public internal(set) var version: Int64
    /// Customers whose first event came before the model existed, in arrival order.
    public var pendingCustomers: [String]
    public internal(set) var names: [Int: String]
    /// User overrides by segment id (configuration or API); they travel in every later change.
    public internal(set) var nameOverrides: [Int: String]
    /// When frozen, the model serves only: assignments go on, the standardiser and the centers stop learning.
    public internal(set) var frozen = false
    /// When following, the model is the consumer group's, learned by its leader and adopted here
    /// (``adopting(_:)``): assignments go on, but this instance neither initialises a model of its own nor learns.
    /// A runtime role, not stored with the model.
    public internal(set) var following = false
    /// Centers and watermark at the start of the current drift window (see ``driftPerHour``).
    var driftAnchor: (watermark: Int64, centers: [Int: [Double]])?
    /// Mean distance centers moved per hour of event time over the last completed window of at least an hour.
    public internal(set) var driftPerHour: Double = 0
    /// Segments whose center is past the lapse line (a ``FeatureDefinition/Kind/lapsed(types:afterDays:)`` feature at
    /// 0.5 or more in user units). With such a feature in the spec, time alone moves a customer only into one of
    /// these: a customer who is still coming does not get a campaign because their 30-day counts decayed a little.
    public internal(set) var lapsedSegments: Set<Int> = []
    /// Mean squared distance of the customers to their nearest center after the last refinement (nil before one).
    public internal(set) var refinedInertia: Double?
    /// The lifecycle and prediction model, fitted at initialisation and at every refinement (nil before).
    public internal(set) var lifecycle: LifecycleModel?

    var raw: [Double]
    var z: [Double]

    public init(configuration: SegmentationConfiguration) {
        self.configuration = configuration
        layout = FeatureLayout(spec: configuration.features)
        standardizer = Standardizer(
            spec: configuration.features, forgettingHalfLife: configuration.standardizerHalfLife)
        kmeans = MiniBatchKMeans(configuration: configuration.kmeans, dimensions: layout.dimensions)
        watermark = .min
        recentEventTimes = RecentEventTimes(capacity: configuration.eventTime.window)
        version = 0
        pendingCustomers = []
        names = [:]
        nameOverrides = configuration.names
        raw = []
        z = []
    }

    /// Restores a segmentation from stored parts (see ``SegmentationSnapshot``).
    public init(
        configuration: SegmentationConfiguration, standardizer: Standardizer, kmeans: MiniBatchKMeans,
        watermark: Int64, version: Int64, pendingCustomers: [String], nameOverrides: [Int: String],
        recentEventTimes: [Int64] = [], clampedAhead: UInt64 = 0, clampedBehind: UInt64 = 0
    ) {
        self.init(configuration: configuration)
        self.standardizer = standardizer
        self.kmeans = kmeans
        self.watermark = watermark
        self.recentEventTimes = RecentEventTimes(capacity: configuration.eventTime.window, times: recentEventTimes)
        self.clampedAhead = clampedAhead
        self.clampedBehind = clampedBehind
        self.version = version
        self.pendingCustomers = pendingCustomers
        self.nameOverrides = nameOverrides
        refreshNames()
    }

    /// A new, empty record for a customer seen for the first time.
    public func newRecord(customerID: String, partition: Int32, ordinal: Int64 = 0) -> CustomerRecord {
        CustomerRecord(
            customerID: customerID, partition: partition, state: CustomerState(layout: layout), ordinal: ordinal)
    }

    /// Applies one decoded event to its customer's record and the model. An event whose time is further from the
    /// stream than ``SegmentationConfiguration/eventTime`` allows is counted in ``clampedEvents`` and applied at a
    /// clamped time: one too far ahead at the current watermark (so it moves time for nobody), one too far behind
    /// at the lower bound. `wallClock` (epoch ms), when given, also distrusts events more than the allowed lead
    /// ahead of it.
    public mutating func apply(_ event: Event, to record: inout CustomerRecord, wallClock: Int64? = nil) -> Outcome {
        if let id = event.eventID, !record.state.rememberEventID(id) {
            return .duplicate
        }
        recentEventTimes.insert(event.timestamp)
        let time = configuration.eventTime.admit(
            event.timestamp, recent: recentEventTimes, watermark: watermark, wallClock: wallClock)
        if time == event.timestamp {
            record.state.apply(event, layout: layout)
        } else {
            if time < event.timestamp { clampedAhead += 1 } else { clampedBehind += 1 }
            var clamped = event
            clamped.timestamp = time
            record.state.apply(clamped, layout: layout)
        }
        record.eventCount += 1
        watermark = max(watermark, time)
        observeVector(of: record)
        if !kmeans.isInitialised {
            if record.eventCount == 1 {
                pendingCustomers.append(record.customerID)
            }
            guard !following, kmeans.collect(z) else { return .applied(change: nil, modelInitialised: false) }
            version = 1
            refreshNames()
            pendingCustomers.removeAll { $0 == record.customerID }
            let change = assignAndLearn(&record, cause: .event, trigger: event.eventID, at: time)
            return .applied(change: change, modelInitialised: true)
        }
        if record.segmentID == nil, configuration.firstSegmentAtSessionEnd {
            record.timerDueAt = record.state.lastEventAt + CustomerState.sessionGapMs
            return .applied(change: nil, modelInitialised: false)
        }
        if configuration.refineEvery > 0 {
            return .applied(change: assign(&record, cause: .event, trigger: event.eventID, at: time).change,
                            modelInitialised: false)
        }
        let change = assignAndLearn(&record, cause: .event, trigger: event.eventID, at: time)
        return .applied(change: change, modelInitialised: false)
    }

    /// Initialises the model from the vectors collected so far when the stream ended before `initSample` was
    /// reached (short replays). Returns true when it initialised; the caller then re-evaluates
    /// ``pendingCustomers`` as after ``Outcome/applied(change:modelInitialised:)``.
    public mutating func initialiseEarly() -> Bool {
        guard !following, !kmeans.isInitialised, kmeans.sample.count >= configuration.kmeans.k else { return false }
        kmeans.initialise(from: kmeans.sample)
        kmeans.sample = []
        version = 1
        refreshNames()
        return true
    }

    /// Re-assigns a customer under the current model as of the watermark (no event). With `learn`, the customer's
    /// current vector also feeds the standardiser and the model, so quiet customers are represented in it. With
    /// `cause` nil the cause is inferred: `timer` when the model would still have kept the customer where they
    /// are as of their last event (so ageing moved them), `model` otherwise. Returns the change if they moved.
    public mutating func reevaluate(
        _ record: inout CustomerRecord, cause: SegmentChange.Cause? = nil, learn: Bool
    ) -> SegmentChange? {
        guard kmeans.isInitialised, record.eventCount > 0 else { return nil }
        let resolved = cause ?? inferredCause(record)
        if resolved == .timer, let current = record.segmentID {
            let target = decision(record, current: current, at: watermark)
            if target != current, !ageingMayMove(to: target) { return nil }
        }
        if learn {
            observeVector(of: record)
            let change = assignAndLearn(&record, cause: resolved, trigger: nil, at: watermark)
            return change
        }
        record.state.features(at: watermark, layout: layout, into: &raw)
        standardizer.transform(raw, into: &z)
        return assign(&record, cause: resolved, trigger: nil, at: watermark).change
    }

    /// Features of `record` in user units as of the watermark, by name.
    public func features(of record: CustomerRecord) -> [(name: String, value: Double)] {
        var values: [Double] = []
        record.state.features(at: watermark, layout: layout, into: &values)
        return zip(configuration.features.features, values).map { ($0.name, $1) }
    }

    /// The features of `record` in user units as of the watermark, in spec order.
    public func rawVector(of record: CustomerRecord) -> [Double] {
        var values: [Double] = []
        record.state.features(at: watermark, layout: layout, into: &values)
        return values
    }

    /// The standardised vector of `record` under the current statistics.
    public func standardisedVector(of record: CustomerRecord) -> [Double] {
        var values: [Double] = []
        var vector: [Double] = []
        record.state.features(at: watermark, layout: layout, into: &values)
        standardizer.transform(values, into: &vector)
        return vector
    }

    /// Each center's profile in user units, by segment id, in center order.
    public func profiles() -> [(id: Int, name: String, profile: [Double])] {
        kmeans.centers.map { ($0.id, names[$0.id] ?? "Segment \($0.id)", standardizer.invert($0.vector)) }
    }

    /// Renames segment `id` (user override); returns false when no such segment exists.
    public mutating func rename(segment id: Int, to name: String) -> Bool {
        guard kmeans.index(ofID: id) != nil else { return false }
        nameOverrides[id] = name
        names[id] = name
        return true
    }

    private mutating func observeVector(of record: CustomerRecord) {
        record.state.features(at: watermark, layout: layout, into: &raw)
        // With refinement the statistics come from the customers at each refinement (``Standardizer/refit(raw:)``),
        // not from the event stream; before the model exists the stream is all there is.
        if !following, !kmeans.isInitialised || (!frozen && configuration.refineEvery == 0) {
            standardizer.observe(raw)
        }
        standardizer.transform(raw, into: &z)
    }

    private mutating func assignAndLearn(
        _ record: inout CustomerRecord, cause: SegmentChange.Cause, trigger: String?, at time: Int64
    ) -> SegmentChange? {
        let (change, nearest) = assign(&record, cause: cause, trigger: trigger, at: time)
        if frozen || following { return change }
        let retired = kmeans.learn(z, nearest: nearest)
        trackDrift()
        if kmeans.updates % configuration.versionEvery == 0 {
            version += 1
            refreshNames()
        } else if retired != nil {
            refreshNames()
        }
        return change
    }

    mutating func assign(
        _ record: inout CustomerRecord, cause: SegmentChange.Cause, trigger: String?, at time: Int64
    ) -> (change: SegmentChange?, nearest: (index: Int, squaredDistance: Double)) {
        let decision = configuration.assigner.segment(
            current: record.segmentID, since: record.segmentSince, now: time, vector: z, model: kmeans)
        guard decision.id != record.segmentID else { return (nil, decision.nearest) }
        let previous = record.segmentID.map { SegmentChange.SegmentRef(id: $0, name: name(of: $0)) }
        record.segmentID = decision.id
        record.segmentSince = time
        record.timerDueAt = nil
        record.transitionSeq += 1
        let change = SegmentChange(
            customerID: record.customerID, sequence: record.transitionSeq, previous: previous,
            segment: .init(id: decision.id, name: name(of: decision.id)), cause: cause, triggerEventID: trigger,
            at: time, modelVersion: version,
            features: zip(configuration.features.features, raw).map { ($0.name, $1) })
        return (change, decision.nearest)
    }

    /// Current name of segment `id` (retired ids keep a generic name).
    public func name(of id: Int) -> String {
        names[id] ?? nameOverrides[id] ?? "Segment \(id)"
    }

    mutating func refreshNames() {
        names = SegmentNamer.names(
            centers: kmeans.centers, spec: configuration.features, overrides: nameOverrides,
            profiles: Dictionary(uniqueKeysWithValues: kmeans.centers.map { ($0.id, standardizer.invert($0.vector)) }))
        let lapseFeatures = configuration.features.features.indices.filter {
            if case .lapsed = configuration.features.features[$0].kind { return true }
            return false
        }
        lapsedSegments = Set(kmeans.centers.filter { center in
            let profile = standardizer.invert(center.vector)
            return lapseFeatures.contains { profile[$0] >= 0.5 }
        }.map(\.id))
    }

    /// Whether time passing alone may move a customer into segment `target` (see ``lapsedSegments``).
    func ageingMayMove(to target: Int) -> Bool {
        !layout.hasLapseFeature || lapsedSegments.contains(target)
    }
}
