import Foundation
import SegmenterCore

/// Everything `segmenter` can be configured with, read once at start-up from one YAML file, then
/// `SEGMENTER_*` environment variables, then command-line flags (later wins). See `segmenter.example.yaml` for
/// every field with its default.
public struct SegmenterConfiguration: Sendable {
    /// The `kafka` section.
    public struct Kafka: Sendable, Hashable {
        /// Comma-separated bootstrap list. Default: `localhost:9092`.
        public var bootstrapServers = "localhost:9092"
        /// Consumer group. Default: `segmenter`.
        public var groupID = "segmenter"
        /// Default: `segmenter`.
        public var clientID = "segmenter"
        /// Input topics. Default: `[events]`.
        public var eventTopics = ["events"]
        /// Default: `segment-changes`.
        public var changesTopic = "segment-changes"
        /// Default: `segmenter-dlq`.
        public var deadLetterTopic = "segmenter-dlq"
        /// Audience Entered / Exited events (Segment `track` calls, key = customer id). Default: `audience-changes`.
        public var audiencesTopic = "audience-changes"
        /// The compacted topic every committed customer state is written to, so that a partition's state moves with
        /// it to another instance of the group (DESIGN §7); `off` keeps state on this instance only. Needs exactly
        /// one input topic. Default: `<group_id>-<input topic>-changelog`.
        public var changelogTopic: String?
        /// Whether ``changelogTopic`` is in use. Default: true.
        public var changelogEnabled = true
        /// The changelog topic in use, nil when it is off.
        public var changelog: String? {
            guard changelogEnabled, let input = eventTopics.first else { return nil }
            return changelogTopic ?? Changelog.defaultTopic(groupID: groupID, inputTopic: input)
        }
        /// The compacted topic the group's model is published to by its leader, the instance that owns partition 0 of
        /// the (first) input topic, and adopted from by the other instances, so that the group assigns with one model
        /// (DESIGN §7); `off` lets every instance learn its own. Only its partition 0 is used.
        /// Default: `<group_id>-<input topic>-model`.
        public var modelTopic: String?
        /// Whether ``modelTopic`` is in use. Default: true.
        public var modelTopicEnabled = true
        /// The model topic in use, nil when it is off.
        public var model: String? {
            guard modelTopicEnabled, let input = eventTopics.first else { return nil }
            return modelTopic ?? "\(groupID)-\(input)-model"
        }
        /// Messages larger than this go to the dead-letter topic. Default: 65,536.
        public var maxMessageBytes = 65_536
        /// Any librdkafka property, passed through unchanged (TLS, SASL, tuning). Default: none.
        public var properties: [String: String] = [:]
        /// Static group membership (`group.instance.id`, KIP-345): a restarted instance takes its partitions back
        /// at once, where a new member would wait for the old one's session to time out. `kafka.group_instance_id`:
        /// `auto` derives the id from the data directory (``staticMemberID(dataDirectoryInstance:)``), any other
        /// text is the id itself, `off` joins as a dynamic member. Default: `auto`.
        public var groupInstanceID: GroupInstanceID = .auto
    }

    /// The `store` section.
    public struct Store: Sendable, Hashable {
        /// Directory holding `segmenter.sqlite`. Default: `./segmenter-data`.
        public var dataDirectory = "./segmenter-data"
        /// A batch commits after this many events… Default: 5,000.
        public var batchSize = 5_000
        /// …or this many milliseconds, whichever comes first. Default: 100.
        public var batchIntervalMilliseconds = 100
        /// Customers kept in memory (LRU); the rest are read from SQLite when their events arrive. Default: 200,000.
        public var cacheSize = 200_000
        /// `FULL` survives power loss at some cost per commit; `NORMAL` survives process crashes. Default: normal.
        public var synchronousFull = false
        /// Segment transitions kept per customer for `GET /v1/customers/{id}`; older ones are deleted as newer
        /// ones arrive, so the history on disk stays bounded. Default: 20.
        public var transitionHistory = 20
    }

    /// The `http` section.
    public struct HTTP: Sendable, Hashable {
        /// Default: true.
        public var enabled = true
        /// Address and port to listen on. Default: `127.0.0.1:9464` (loopback only: exposing it is a choice).
        public var host = "127.0.0.1"
        public var port = 9464
        /// `/readyz` fails while the total consumer lag is above this. Default: 100,000.
        public var readyMaxLag = 100_000
        /// When set, every request that changes something (model commands, renames) needs
        /// `Authorization: Bearer <token>`. Also `SEGMENTER_HTTP_TOKEN`. Default: none.
        public var token: String?
        /// Serve a non-loopback `listen` address without a token anyway. Default: false (refuse to start).
        public var allowUnauthenticated = false
        /// Larger request bodies are refused with 413. Default: 65,536.
        public var maxBodyBytes = 65_536

        /// True for 127.0.0.0/8, ::1 and localhost.
        public var isLoopback: Bool {
            let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
            return bare == "localhost" || bare == "::1" || bare.hasPrefix("127.")
        }
    }

    /// The `privacy` section (issue 18, README "Privacy").
    public struct Privacy: Sendable, Hashable {
        /// Keep erased ids on a suppression list: later events for them are dropped and counted
        /// (`segmenter_events_suppressed_total`) instead of starting a new customer. The list holds the ids only, for
        /// as long as the data directory lives. Default: false.
        public var suppressErased = false
    }

    /// What moves the watermark (the "now" features age against): `event` time only, so replays give the same
    /// answers, or also the `wall` clock, so that timers fire while the stream is quiet. Default: event.
    public enum Clock: String, Sendable { case event, wall }

    public var clock = Clock.event
    public var kafka = Kafka()
    public var store = Store()
    public var segmentation = SegmentationConfiguration()
    public var http = HTTP()
    public var privacy = Privacy()
    /// The `traits` and `audiences` sections, compiled against the features. Default: none.
    public var audiences = AudienceRules.none

    public init() {}

    /// Reads the configuration: the file at `path` (or defaults when nil), then environment variables, then
    /// `overrides` (dotted path → value, from flags). Throws a ``ConfigurationError`` listing every problem.
    public static func load(
        path: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
        overrides: [String: String] = [:]
    ) throws -> SegmenterConfiguration {
        var tree = ConfigTree.map([])
        var source = "defaults"
        if let path {
            source = path
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ConfigurationError(
                    source: path,
                    problems: ["cannot read the file: check the --config path (see segmenter.example.yaml)"])
            }
            tree = try ConfigTree.parse(yaml: String(decoding: data, as: UTF8.self), source: path)
        }
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) {
            guard let fieldPath = environmentPath(name) else { continue }
            tree.set(fieldPath, to: .scalar(value))
            source += ", \(name)"
        }
        for (fieldPath, value) in overrides.sorted(by: { $0.key < $1.key }) {
            tree.set(fieldPath.split(separator: ".").map(String.init), to: .scalar(value))
        }
        let reader = ConfigReader(tree: tree)
        let configuration = read(reader)
        let problems = reader.problems.list + configuration.segmentation.problems()
        guard problems.isEmpty else { throw ConfigurationError(source: source, problems: problems) }
        return configuration
    }

    /// Environment variables: `SEGMENTER_BROKERS`, `SEGMENTER_DATA_DIR`, `SEGMENTER_HTTP_LISTEN`,
    /// `SEGMENTER_HTTP_TOKEN` and the general
    /// form `SEGMENTER_<SECTION>__<FIELD>` (e.g. `SEGMENTER_MODEL__K=8`, `SEGMENTER_KAFKA__GROUP_ID=g`).
    static func environmentPath(_ name: String) -> [String]? {
        switch name {
        case "SEGMENTER_BROKERS": return ["kafka", "bootstrap_servers"]
        case "SEGMENTER_DATA_DIR": return ["store", "data_dir"]
        case "SEGMENTER_HTTP_LISTEN": return ["http", "listen"]
        case "SEGMENTER_GROUP_ID": return ["kafka", "group_id"]
        case "SEGMENTER_HTTP_TOKEN": return ["http", "token"]
        default:
            guard name.hasPrefix("SEGMENTER_"), name.contains("__") else { return nil }
            return name.dropFirst("SEGMENTER_".count).components(separatedBy: "__").map { $0.lowercased() }
        }
    }

    static func read(_ root: ConfigReader) -> SegmenterConfiguration {
        root.rejectUnknownKeys([
            "kafka", "input", "store", "model", "features", "http", "traits", "audiences", "privacy",
            "predictions", "lifecycle",
        ])
        var c = SegmenterConfiguration()
        let kafka = root.section("kafka")
        kafka.rejectUnknownKeys([
            "bootstrap_servers", "group_id", "client_id", "topics", "max_message_bytes", "properties",
            "group_instance_id",
        ])
        c.kafka.bootstrapServers = kafka.string("bootstrap_servers", default: c.kafka.bootstrapServers)
        if c.kafka.bootstrapServers.trimmingSpaces.isEmpty {
            kafka.report("kafka.bootstrap_servers: is empty; give host:port[,host:port…] of your Kafka brokers")
        }
        c.kafka.groupID = kafka.string("group_id", default: c.kafka.groupID)
        c.kafka.clientID = kafka.string("client_id", default: c.kafka.clientID)
        c.kafka.maxMessageBytes = kafka.int(
            "max_message_bytes", default: c.kafka.maxMessageBytes, in: 256...100_000_000)
        c.kafka.properties = kafka.stringMap("properties")
        c.kafka.groupInstanceID = Self.groupInstanceID(kafka, default: c.kafka.groupInstanceID)
        let topics = kafka.section("topics")
        topics.rejectUnknownKeys(["events", "changes", "dead_letters", "audiences", "changelog", "model"])
        c.kafka.eventTopics = topics.stringList("events") ?? c.kafka.eventTopics
        c.kafka.changesTopic = topics.string("changes", default: c.kafka.changesTopic)
        c.kafka.deadLetterTopic = topics.string("dead_letters", default: c.kafka.deadLetterTopic)
        c.kafka.audiencesTopic = topics.string("audiences", default: c.kafka.audiencesTopic)
        (c.kafka.changelogEnabled, c.kafka.changelogTopic) = Self.optionalTopic(
            topics, "changelog", offMeans: "keep state local",
            default: (c.kafka.changelogEnabled, c.kafka.changelogTopic))
        (c.kafka.modelTopicEnabled, c.kafka.modelTopic) = Self.optionalTopic(
            topics, "model", offMeans: "let each instance learn its own model",
            default: (c.kafka.modelTopicEnabled, c.kafka.modelTopic))
        if c.kafka.changelogEnabled, c.kafka.eventTopics.count > 1 {
            topics.report(
                "kafka.topics.changelog: a changelog needs exactly one input topic, and kafka.topics.events names "
                    + "\(c.kafka.eventTopics.count); run one consumer group per input topic, or set "
                    + "kafka.topics.changelog: off to keep each instance's state local")
        }
        for (name, value) in [("events", c.kafka.eventTopics.joined()), ("changes", c.kafka.changesTopic),
                              ("dead_letters", c.kafka.deadLetterTopic), ("audiences", c.kafka.audiencesTopic)]
        where value.isEmpty {
            topics.report("kafka.topics.\(name): is empty; name a Kafka topic")
        }

        let store = root.section("store")
        store.rejectUnknownKeys([
            "data_dir", "batch_size", "batch_interval_ms", "cache_size", "synchronous", "transition_history",
        ])
        c.store.dataDirectory = store.string("data_dir", default: c.store.dataDirectory)
        c.store.batchSize = store.int("batch_size", default: c.store.batchSize, in: 1...1_000_000)
        c.store.batchIntervalMilliseconds = store.int(
            "batch_interval_ms", default: c.store.batchIntervalMilliseconds, in: 1...60_000)
        c.store.cacheSize = store.int("cache_size", default: c.store.cacheSize, in: 100...100_000_000)
        if c.store.cacheSize < 2 * c.store.batchSize {
            store.report("store.cache_size: \(c.store.cacheSize) must be at least 2 × store.batch_size "
                + "(\(2 * c.store.batchSize)) so a batch's customers stay in memory until they are committed")
        }
        c.store.synchronousFull = store.choice("synchronous", default: false, ["normal": false, "full": true])
        c.store.transitionHistory = store.int(
            "transition_history", default: c.store.transitionHistory, in: 1...1_000_000)

        c.segmentation = readModel(root.section("model"), features: root.section("features"))
        readLifecycle(root.section("predictions"), root.section("lifecycle"), into: &c.segmentation)
        c.clock = root.section("model").choice("clock", default: .event, ["event": .event, "wall": .wall])
        let input = root.section("input")
        input.rejectUnknownKeys(["format"])
        let formats = Dictionary(uniqueKeysWithValues: InputFormat.allCases.map { ($0.rawValue, $0) })
        c.segmentation.inputFormat = input.choice("format", default: .native, formats)
        if c.segmentation.features.problems().isEmpty {
            c.audiences = AudienceConfigurationReader.read(
                traits: root.list("traits"), audiences: root.list("audiences"), features: c.segmentation.features,
                report: root.report)
        }

        let privacy = root.section("privacy")
        privacy.rejectUnknownKeys(["suppress_erased"])
        c.privacy.suppressErased = privacy.bool("suppress_erased", default: c.privacy.suppressErased)

        let http = root.section("http")
        http.rejectUnknownKeys(["enabled", "listen", "ready_max_lag", "token", "allow_unauthenticated",
                                "max_body_bytes"])
        c.http.enabled = http.bool("enabled", default: c.http.enabled)
        c.http.readyMaxLag = http.int("ready_max_lag", default: c.http.readyMaxLag, in: 0...Int.max)
        c.http.token = http.optionalString("token")
        if c.http.token?.trimmingSpaces.isEmpty == true {
            http.report("http.token: is empty; give a long random string (e.g. `openssl rand -hex 32`) or omit it")
        }
        c.http.allowUnauthenticated = http.bool("allow_unauthenticated", default: c.http.allowUnauthenticated)
        c.http.maxBodyBytes = http.int("max_body_bytes", default: c.http.maxBodyBytes, in: 256...67_108_864)
        if let listen = http.optionalString("listen") {
            let parts = listen.split(separator: ":", omittingEmptySubsequences: false)
            if parts.count >= 2, let port = Int(parts.last!), (0...65_535).contains(port) {
                c.http.host = parts.dropLast().joined(separator: ":")
                c.http.port = port
            } else {
                http.report("http.listen: \"\(listen)\" is not host:port (e.g. 127.0.0.1:9464)")
            }
        }
        if c.http.enabled, !c.http.isLoopback, c.http.token == nil, !c.http.allowUnauthenticated {
            http.report("""
                http.listen: \(c.http.host):\(c.http.port) is reachable from other machines but http.token is not \
                set, so anyone could freeze, retrain or roll back the model: set http.token (or \
                SEGMENTER_HTTP_TOKEN), or set http.allow_unauthenticated: true to serve without one
                """)
        }
        return c
    }

    /// `kafka.group_instance_id`: `auto`, `off` or an id; `default` when the key is absent.
    static func groupInstanceID(
        _ kafka: ConfigReader, default fallback: Kafka.GroupInstanceID
    ) -> Kafka.GroupInstanceID {
        guard kafka.has("group_instance_id") else { return fallback }
        switch kafka.string("group_instance_id", default: "").trimmingSpaces {
        case "auto": return .auto
        case "off": return .off
        case "":
            kafka.report("kafka.group_instance_id: is empty; write auto (derived from the data directory), off "
                + "(a dynamic member) or an id unique to this instance")
            return fallback
        case let id: return .fixed(id)
        }
    }

    /// A topic setting that names a topic or says `off`: (enabled, name), `default` when the key is absent.
    static func optionalTopic(
        _ topics: ConfigReader, _ key: String, offMeans: String, default fallback: (Bool, String?)
    ) -> (Bool, String?) {
        guard topics.has(key) else { return fallback }
        let value = topics.string(key, default: "").trimmingSpaces
        if value == "off" { return (false, nil) }
        if value.isEmpty {
            topics.report("kafka.topics.\(key): is empty; name a topic, or write off to \(offMeans)")
            return fallback
        }
        return (true, value)
    }

    static func readModel(_ model: ConfigReader, features: ConfigReader) -> SegmentationConfiguration {
        model.rejectUnknownKeys([
            "k", "init_sample", "seed", "forgetting_half_life", "reseed_after", "hysteresis_margin",
            "min_dwell_minutes", "standardizer_half_life", "version_every", "reevaluations_per_event", "names",
            "clock", "tick_events", "max_event_lead_hours", "max_event_lag_days", "event_time_window",
            "refine_every", "refine_sample", "refine_passes", "first_segment",
        ])
        var s = SegmentationConfiguration()
        s.kmeans.k = model.int("k", default: s.kmeans.k, in: 1...1_000)
        s.kmeans.initSample = model.int("init_sample", default: s.kmeans.initSample, in: 1...1_000_000)
        s.kmeans.seed = UInt64(model.int("seed", default: Int(s.kmeans.seed), in: 0...Int.max))
        s.kmeans.forgettingHalfLife = model.optionalDouble(
            "forgetting_half_life", default: s.kmeans.forgettingHalfLife, in: 1...1e12)
        s.kmeans.reseedAfter = UInt64(model.int("reseed_after", default: Int(s.kmeans.reseedAfter), in: 1...Int.max))
        s.assigner.margin = model.double("hysteresis_margin", default: s.assigner.margin, in: 0...0.99)
        s.assigner.minimumDwellMilliseconds = Int64(
            model.double("min_dwell_minutes", default: 0, in: 0...1e9) * 60_000)
        s.standardizerHalfLife = model.optionalDouble(
            "standardizer_half_life", default: s.standardizerHalfLife, in: 1...1e12)
        s.versionEvery = UInt64(model.int("version_every", default: Int(s.versionEvery), in: 1...Int.max))
        s.reevaluationsPerEvent = model.double(
            "reevaluations_per_event", default: s.reevaluationsPerEvent, in: 0...100)
        s.tickEvents = model.int("tick_events", default: s.tickEvents, in: 1...1_000_000)
        s.refineEvery = model.int("refine_every", default: s.refineEvery, in: 0...Int.max)
        s.refineSample = model.int("refine_sample", default: s.refineSample, in: 1...10_000_000)
        s.refinePasses = model.int("refine_passes", default: s.refinePasses, in: 1...1_000)
        s.firstSegmentAtSessionEnd = model.choice(
            "first_segment", default: s.firstSegmentAtSessionEnd, ["first_event": false, "session_end": true])
        let limits = s.eventTime
        s.eventTime.maxLeadMilliseconds = model.optionalDouble(
            "max_event_lead_hours", default: limits.maxLeadMilliseconds.map { Double($0) / 3_600_000 }, in: 0.001...1e6
        ).map { Int64($0 * 3_600_000) }
        s.eventTime.maxLagMilliseconds = model.optionalDouble(
            "max_event_lag_days", default: limits.maxLagMilliseconds.map { Double($0) / 86_400_000 }, in: 0.001...1e6
        ).map { Int64($0 * 86_400_000) }
        s.eventTime.window = model.int("event_time_window", default: limits.window, in: 1...10_001)
        for (key, name) in model.stringMap("names") {
            guard let id = Int(key) else {
                model.report(
                    "model.names.\(key): segment ids are whole numbers (see `segmenter replay` or /v1/segments)")
                continue
            }
            s.names[id] = name
        }
        s.features = FeatureSpecReader.read(features)
        return s
    }

    /// The `predictions` and `lifecycle` sections (issue 24); the order of the two thresholds is checked with the
    /// rest of the segmentation (``LifecyclePolicy/validationError()``).
    static func readLifecycle(
        _ predictions: ConfigReader, _ lifecycle: ConfigReader, into s: inout SegmentationConfiguration
    ) {
        predictions.rejectUnknownKeys(["horizon_days"])
        s.horizonDays = predictions.double("horizon_days", default: s.horizonDays, in: 1...36_500)
        lifecycle.rejectUnknownKeys(["new_for_days", "at_risk_below", "lapsed_below"])
        let policy = s.lifecyclePolicy
        s.lifecyclePolicy.newForDays = lifecycle.double("new_for_days", default: policy.newForDays, in: 0...36_500)
        s.lifecyclePolicy.atRiskBelow = lifecycle.double(
            "at_risk_below", default: policy.atRiskBelow, in: 0.001...0.999)
        s.lifecyclePolicy.lapsedBelow = lifecycle.double(
            "lapsed_below", default: policy.lapsedBelow, in: 0.001...0.999)
    }
}
