import Foundation
import Logging
import SegmenterCore
import SegmenterKafka
import ServiceLifecycle

/// `segmenter demo`: an embedded broker, a live stream of synthetic shoppers, the daemon and a terminal view, in
/// one process, until SIGINT or SIGTERM.
public struct DemoRun {
    public var customers: Int
    public var events: Int
    public var seed: UInt64
    public var rate: Double
    public var k: Int
    /// nil: a fresh temporary directory, removed at exit.
    public var dataDir: String?
    public var httpListen: String
    public var format: InputFormat

    public init(
        customers: Int, events: Int, seed: UInt64, rate: Double, k: Int, dataDir: String?, httpListen: String,
        format: InputFormat
    ) {
        self.customers = customers
        self.events = events
        self.seed = seed
        self.rate = rate
        self.k = k
        self.dataDir = dataDir
        self.httpListen = httpListen
        self.format = format
    }

    public func run() async throws {
        var logger = Logger(label: "segmenter-demo")
        logger.logLevel = .warning
        let broker = try EmbeddedBroker(
            brokers: 1, topics: [
                "events": 8, "segmenter-events-changelog": 8, "segmenter-events-model": 1, "segment-changes": 2,
                "segmenter-dlq": 1, "audience-changes": 2,
            ])
        let temporary = dataDir == nil
        let directory = dataDir ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("segmenter-demo-\(ProcessInfo.processInfo.processIdentifier)").path
        defer { if temporary { try? FileManager.default.removeItem(atPath: directory) } }
        var configuration = try SegmenterConfiguration.load(path: nil, environment: [:], overrides: [
            "kafka.bootstrap_servers": broker.bootstrapServers, "store.data_dir": directory,
            "model.k": String(k), "http.listen": httpListen, "input.format": format.rawValue,
        ])
        configuration.audiences = try Self.exampleAudiences(features: configuration.segmentation.features)
        let status = PipelineStatusBoard()
        let pipeline = try Pipeline(configuration: configuration, logger: logger, status: status)
        let stream = try EventStreamProducer(
            bootstrapServers: broker.bootstrapServers, topic: "events",
            shoppers: SyntheticShoppers(customers: customers, events: events, seed: seed), rate: rate, format: format)
        let console = "http://\(configuration.http.host):\(configuration.http.port)/"
        // Unbuffered, so the URL is there at once even when standard output is a file or a pipe.
        FileHandle.standardOutput.write(Data("Segmenter demo: open the console at \(console)\n".utf8))
        let header = "Segmenter demo — broker \(broker.bootstrapServers), data \(directory), console \(console)"
        var services = try DaemonServices.make(pipeline: pipeline, configuration: configuration, logger: logger)
        services.append(.init(service: stream, successTerminationBehavior: .ignore))
        services.append(.init(service: TerminalView(status: status, stream: stream, header: header)))
        let group = ServiceGroup(configuration: .init(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        withExtendedLifetime(broker) {}
    }

    /// The two audiences the demo starts with, beside the clusters: one by amounts, one by recency and segment.
    static func exampleAudiences(features: FeatureSpec) throws -> AudienceRules {
        try AudienceRules(
            audiences: [
                Audience(id: "big_spenders", name: "Big spenders", when: "orders_30d >= 2 and revenue_30d > 150"),
                Audience(id: "carted_not_bought", name: "Carted, not bought",
                         when: "carts_30d >= 1 and days_since_last_order > 7 and not in_audience('big_spenders')"),
            ],
            traits: [ComputedTrait(name: "favourite_category", kind: .mostFrequent, property: .text(.category))],
            features: features)
    }
}
