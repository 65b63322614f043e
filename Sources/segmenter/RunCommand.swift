import ArgumentParser
import SegmenterDaemon

/// Options shared by the commands that run the daemon.
struct DaemonOptions: ParsableArguments {
    @Option(name: .long, help: "YAML configuration file (see segmenter.example.yaml). Default: built-in defaults.")
    var config: String?

    @Option(name: .long, help: "Kafka bootstrap servers, comma-separated (kafka.bootstrap_servers).")
    var brokers: String?

    @Option(name: .long, help: "Directory for the SQLite state (store.data_dir). Default: ./segmenter-data.")
    var dataDir: String?

    @Option(name: .long, help: "Consumer group id (kafka.group_id). Default: segmenter.")
    var groupID: String?

    @Option(name: .long, help: "Input topic(s), comma-separated (kafka.topics.events). Default: events.")
    var topic: String?

    @Option(name: .long, help: """
        Shape of the input messages (input.format): native, segment, ga4, snowplow, or auto (per message). \
        Default: native.
        """)
    var inputFormat: InputFormat?

    @Option(name: .long, help: "HTTP listen address host:port (http.listen). Default: 127.0.0.1:9464.")
    var httpListen: String?

    @Option(name: .long, help: "Number of segments (model.k). Default: 5.")
    var k: Int?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error. Default: info.")
    var logLevel: String = "info"

    var overrides: [String: String] {
        var o: [String: String] = [:]
        if let brokers { o["kafka.bootstrap_servers"] = brokers }
        if let dataDir { o["store.data_dir"] = dataDir }
        if let groupID { o["kafka.group_id"] = groupID }
        if let topic { o["kafka.topics.events"] = topic }
        if let inputFormat { o["input.format"] = inputFormat.rawValue }
        if let httpListen { o["http.listen"] = httpListen }
        if let k { o["model.k"] = String(k) }
        return o
    }

    func load() throws -> SegmenterConfiguration {
        try SegmenterConfiguration.load(path: config, overrides: overrides)
    }
}

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the daemon: consume events from Kafka, keep segments in SQLite, publish segment changes.",
        discussion: """
            Flags override SEGMENTER_* environment variables, which override the configuration file. \
            SIGTERM or SIGINT finishes the current batch, commits, flushes the producer and exits 0.
            """
    )

    @OptionGroup var options: DaemonOptions

    func run() async throws {
        let logger = try DaemonServices.standardErrorLogger(label: "segmenter", level: options.logLevel)
        let configuration = try options.load()
        try await DaemonServices.run(configuration: configuration, logger: logger)
    }
}
