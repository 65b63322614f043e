import ArgumentParser
import SegmenterDaemon

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write one record per customer (segment, applied event count, features) from a data directory.",
        discussion: "Reads through a read-only connection, so it works while the daemon runs."
    )

    @Option(name: .long, help: "The daemon's data directory (store.data_dir).")
    var dataDir: String = "./segmenter-data"

    @Option(name: .long, help: "The configuration the daemon runs with (for the feature names).")
    var config: String?

    @Option(name: .long, help: "csv or ndjson.")
    var format: String = "csv"

    @Option(name: .long, help: "Write to this file instead of standard output.")
    var output: String?

    func run() throws {
        guard let format = Export.Format(rawValue: format) else {
            throw ValidationError("--format \(format) is not one of csv, ndjson")
        }
        let configuration = try SegmenterConfiguration.load(path: config)
        let file = try OutputFile(path: output, option: "--output")
        _ = try Export.run(
            dataDirectory: dataDir, configuration: configuration.segmentation, format: format, write: file.write)
        try file.close()
    }
}
