import ArgumentParser
import Foundation
import SegmenterDaemon

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Try Segmenter in one command: embedded Kafka, live synthetic shoppers, the daemon, a live view.",
        discussion: """
            Starts librdkafka's mock cluster on 127.0.0.1 (topics events, segment-changes, segmenter-dlq), \
            produces a steady stream of generated shoppers, runs the daemon against it and redraws a view every \
            second. Simulated time runs fast: weeks of shopping pass in minutes. When the generator finishes, \
            lag falls to 0. Ctrl-C stops everything cleanly.
            """
    )

    @Option(help: "Events per second of the live stream.")
    var rate: Double = 3_000

    @Option(help: "Customers in the stream.")
    var customers = 5_000

    @Option(help: "Events in total; the stream stops after them.")
    var events = 1_000_000

    @Option(help: "Number of segments.")
    var k = 6

    @Option(help: "Data directory (default: a fresh temporary directory, removed at exit).")
    var dataDir: String?

    @Option(help: "HTTP listen address host:port for /metrics and the API.")
    var httpListen = "127.0.0.1:9464"

    @Option(help: "Shape of the live stream and of what the daemon reads: native, segment, ga4 or snowplow.")
    var format: InputFormat = .native

    @Option(help: "Seed of the generator.")
    var seed: UInt64 = 1

    func validate() throws {
        guard rate > 0 else { throw ValidationError("--rate must be a positive number of events per second") }
        guard customers > 0, events > 0 else { throw ValidationError("--customers and --events must be positive") }
        guard format != .auto else {
            throw ValidationError("--format auto is for reading; the demo writes one of native, segment, ga4, snowplow")
        }
    }

    func run() async throws {
        _ = try DaemonServices.standardErrorLogger(label: "segmenter-demo", level: "warning")
        try await DemoRun(
            customers: customers, events: events, seed: seed, rate: rate, k: k, dataDir: dataDir,
            httpListen: httpListen, format: format
        ).run()
    }
}
