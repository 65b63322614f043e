import ArgumentParser
import Foundation
import SegmenterDaemon

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Run the segmentation core over a file of events (NDJSON), exactly as the daemon would.",
        discussion: """
            Events are processed in file order: decode → apply → standardise → assign → learn. Bad lines are \
            counted and reported with their line numbers; they never stop the run. At the end a table shows each \
            segment with its size and profile.
            """
    )

    @Option(name: .long, help: "NDJSON file of events, or - for standard input.")
    var input: String

    @Option(name: .long, help: "YAML configuration file (model and features sections are used).")
    var config: String?

    @Option(name: .long, help: """
        Shape of the input lines (overrides input.format): native, segment, ga4, snowplow, or auto (per line).
        """)
    var inputFormat: InputFormat?

    @Option(name: .long, help: "Number of segments (overrides model.k).")
    var k: Int?

    @Option(name: .long, help: "Write customer_id,segment_id,segment_name per customer to this CSV file.")
    var assignmentsOut: String?

    @Option(name: .long, help: "Write customer_id and the standardised features under the final model to this CSV.")
    var featuresOut: String?

    @Option(name: .long, help: """
        Write every customer, by customer id, as NDJSON to this file: the record `segmenter export --format ndjson` \
        writes for a daemon that consumed the same events (segment, features, lifecycle, predictions, rfm).
        """)
    var customersOut: String?

    @Option(name: .long, help: "Write every segment change, in order, as NDJSON to this file.")
    var changesOut: String?

    @Option(name: .long, help: """
        Write every Audience Entered / Exited event (the audiences section), in order, as NDJSON to this file: \
        the messages the daemon publishes to kafka.topics.audiences.
        """)
    var audienceChangesOut: String?

    @Option(name: .long, help: "Days within which a move A → B → A counts as a flap in the report.")
    var flapWindowDays = 7.0

    @Flag(name: .long, help: "Decode all events first and report core-only and decoding throughput separately.")
    var benchmark = false

    func run() throws {
        var overrides: [String: String] = [:]
        if let k { overrides["model.k"] = String(k) }
        if let inputFormat { overrides["input.format"] = inputFormat.rawValue }
        let configuration = try SegmenterConfiguration.load(path: config, overrides: overrides)
        let changes = try changesOut.map { try OutputFile(path: $0, option: "--changes-out") }
        let audienceChanges = try audienceChangesOut.map {
            try OutputFile(path: $0, option: "--audience-changes-out")
        }
        var options = Replay.Options(
            input: input, segmentation: configuration.segmentation,
            maxMessageBytes: configuration.kafka.maxMessageBytes, preDecode: benchmark)
        options.audiences = configuration.audiences
        options.flapWindowDays = flapWindowDays
        let replay = Replay(
            options: options,
            onChange: { change in try changes?.write(change.jsonLine(emittedAt: change.at) + "\n") })
        replay.onAudienceChange = { change in try audienceChanges?.write(change.jsonLine() + "\n") }
        let summary = try replay.run()
        try changes?.close()
        try audienceChanges?.close()
        try writeOutputs(replay)
        report(summary, replay)
    }

    private func writeOutputs(_ replay: Replay) throws {
        let segmentation = replay.segmentation
        let ordered = replay.customers.sorted { $0.customerID < $1.customerID }
        if let path = assignmentsOut {
            let file = try OutputFile(path: path, option: "--assignments-out")
            try file.write("customer_id,segment_id,segment_name\n")
            for record in ordered {
                let id = record.segmentID.map(String.init) ?? ""
                let name = record.segmentID.map { segmentation.name(of: $0) } ?? ""
                try file.write("\(CSV.field(record.customerID)),\(id),\(CSV.field(name))\n")
            }
            try file.close()
        }
        if let path = featuresOut {
            let file = try OutputFile(path: path, option: "--features-out")
            let names = segmentation.configuration.features.features.map(\.name)
            try file.write((["customer_id"] + names).joined(separator: ",") + "\n")
            for record in ordered {
                let vector = segmentation.standardisedVector(of: record)
                try file.write(CSV.field(record.customerID) + ","
                    + vector.map { String(format: "%.6g", $0) }.joined(separator: ",") + "\n")
            }
            try file.close()
        }
        if let path = customersOut {
            let file = try OutputFile(path: path, option: "--customers-out")
            try replay.writeCustomers(file.write)
            try file.close()
        }
    }

    private func report(_ summary: Replay.Summary, _ replay: Replay) {
        var sizes: [Int: Int] = [:]
        for record in replay.customers {
            if let id = record.segmentID { sizes[id, default: 0] += 1 }
        }
        var out = ""
        out += "lines \(summary.lines), applied \(summary.applied), duplicates \(summary.duplicates), "
        if summary.skipped > 0 { out += "not behaviour (identify, alias, group) \(summary.skipped), " }
        out += "invalid \(summary.invalid), customers \(replay.customers.count), changes \(summary.changes)"
        if !replay.engine.audiences.audiences.isEmpty { out += ", audience changes \(summary.audienceChanges)" }
        out += "\n"
        if summary.invalid > 0 {
            let reasons = summary.invalidByReason.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            out += "invalid by reason: \(reasons.joined(separator: ", "))\n"
            for bad in summary.firstBadLines.prefix(5) {
                out += "  line \(bad.line): \(bad.reason.message)\n"
            }
        }
        if replay.segmentation.kmeans.isInitialised {
            out += "\n" + SegmentTable.render(segmentation: replay.segmentation, sizes: sizes) + "\n\n"
            out += String(format: "changes per 1,000 events %.1f, per customer %.2f; flaps (A → B → A within %g days) %d\n",
                          Double(summary.changes) * 1_000 / Double(max(summary.applied, 1)),
                          Double(summary.changes) / Double(max(replay.customers.count, 1)), flapWindowDays, summary.flaps)
            if let quality = replay.segmentation.partitionQuality(of: replay.customers) {
                out += String(format: "inertia of the published segments %.3f, after a refinement pass %.3f: %.3f×\n\n",
                              quality.publishedInertia, quality.refinedInertia, quality.ratio)
            }
        } else {
            out += "\nno model: fewer than k = \(replay.segmentation.configuration.kmeans.k) valid events\n\n"
        }
        let events = Double(summary.applied + summary.duplicates + summary.invalid)
        out += String(format: "%.0f events/s overall (%.2f s)", events / max(summary.seconds, 1e-9), summary.seconds)
        if let decode = summary.decodeSeconds, let core = summary.coreSeconds {
            out += String(format: "; decoding alone %.0f events/s, core alone %.0f events/s",
                          Double(summary.lines) / max(decode, 1e-9), Double(summary.applied) / max(core, 1e-9))
        }
        print(out)
    }
}
