import ArgumentParser
import Foundation
import SegmenterDaemon

struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write synthetic shopper events as NDJSON, one input event (DESIGN §3) per line.",
        discussion: """
            Customers of six personas (window shoppers, bargain hunters, loyal high-value buyers, one-time \
            buyers, cart abandoners, customers who go dormant) browse, search, cart, buy and refund over the \
            timeline. Events are in timestamp order; the same arguments give byte-identical output.
            """
    )

    @Option(help: """
        Shape of the events: native (DESIGN §3), or the input presets segment, ga4, snowplow \
        (docs/formats.md, "Input presets"), which decode back to the same events.
        """)
    var format: InputFormat = .native

    @Option(help: """
        realistic: heavy-tailed activity, customers whose habits overlap across personas, arrivals and lapses \
        over the whole timeline, bounces and noise (as hard as a real shop). tidy: every customer shops like \
        their persona, all arrive early (easy to cluster; the demo's old data).
        """)
    var shape: SyntheticShoppers.Shape = .realistic

    @Option(help: "How many customers to simulate; the personas are mixed evenly.")
    var customers = 20_000

    @Option(help: "How many events to write in total.")
    var events = 1_000_000

    @Option(help: "Seed of the random generator; the same seed gives the same events.")
    var seed: UInt64 = 1

    @Option(help: "Write the events to this file instead of standard output.")
    var output: String?

    @Option(help: "Produce to Kafka at these bootstrap servers instead of writing NDJSON (key = customer_id).")
    var brokers: String?

    @Option(help: "Kafka topic to produce to (with --brokers).")
    var topic = "events"

    @Option(help: "With --brokers: events per second, a steady live stream (default: as fast as possible).")
    var rate: Double?

    @Option(help: "Also write every customer's true persona to this CSV file (customer_id,persona).")
    var truth: String?

    @Option(help: "Start of the timeline, as an RFC 3339 timestamp.")
    var start = "2026-01-01T00:00:00Z"

    @Option(help: "Length of the timeline in days; the events are spread over it.")
    var days = 56

    func validate() throws {
        guard customers >= 1 else { throw ValidationError("--customers must be at least 1, got \(customers)") }
        guard events >= 0 else { throw ValidationError("--events must be 0 or more, got \(events)") }
        guard format != .auto else {
            throw ValidationError("--format auto is for reading; write one of native, segment, ga4, snowplow")
        }
        guard days >= 1 else { throw ValidationError("--days must be at least 1, got \(days)") }
        if let rate, !(rate > 0) { throw ValidationError("--rate must be a positive number of events per second") }
        if rate != nil, brokers == nil { throw ValidationError("--rate needs --brokers: it paces a Kafka stream") }
        if brokers != nil, output != nil { throw ValidationError("use either --brokers or --output, not both") }
        guard RFC3339.parse(start) != nil else {
            throw ValidationError("--start \"\(start)\" is not an RFC 3339 timestamp; write e.g. 2026-01-01T00:00:00Z")
        }
    }

    func run() async throws {
        var shoppers = SyntheticShoppers(
            customers: customers, events: events, seed: seed, start: RFC3339.parse(start)!, days: days,
            shape: shape
        )
        if let truth {
            let truthOut = try OutputFile(path: truth, option: "--truth")
            try truthOut.write("customer_id,persona\n")
            for (customerID, persona) in shoppers.truth {
                try truthOut.write(customerID + "," + persona.rawValue + "\n")
            }
            try truthOut.close()
        }
        if let brokers {
            let stream = try EventStreamProducer(
                bootstrapServers: brokers, topic: topic, shoppers: shoppers, rate: rate, format: format)
            let progress = try stream.produceAll()
            let summary = "produced \(progress.produced) events to \(topic) at \(brokers): "
                + "\(progress.delivered) delivered, \(progress.failed) failed\n"
            FileHandle.standardError.write(Data(summary.utf8))
            if progress.failed > 0 || progress.delivered < progress.produced {
                throw ExitCode.failure
            }
            return
        }
        let eventsOut = try OutputFile(path: output, option: "--output")
        while let event = shoppers.next() {
            try eventsOut.write(event.jsonLine(format: format) + "\n")
        }
        try eventsOut.close()
    }
}
