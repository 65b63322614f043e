import ArgumentParser
import Foundation
import SegmenterDaemon

/// `segmenter broker`: an embedded Kafka cluster in the foreground, for local development and demos.
struct BrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Run an embedded Kafka broker (librdkafka's mock cluster) until Ctrl-C or SIGTERM.",
        discussion: """
            Prints the bootstrap servers (127.0.0.1 only) on the first line of standard output. \
            The mock cluster keeps only about 5 MB per partition, dropping older messages like \
            retention, so spread large loads over many partitions. It has no CreateTopics: create each \
            consumer group's changelog topic here (<group_id>-<input topic>-changelog, with the input's \
            partition count), or the daemon refuses the one the broker auto-creates.
            """
    )

    @Option(help: "Topics to create, as comma-separated name:partitions entries.")
    var topics = "events:16,segmenter-events-changelog:16,segmenter-events-model:1,segment-changes:4,segmenter-dlq:1"

    @Option(help: "Number of brokers in the cluster.")
    var brokers = 1

    @Option(help: "Also write the bootstrap servers to this file (removed again on exit).")
    var bootstrapFile: String?

    func validate() throws {
        _ = try Self.parseTopics(topics)
        guard brokers >= 1 else { throw ValidationError("--brokers must be at least 1, got \(brokers)") }
    }

    func run() async throws {
        let signal = try await BrokerRun.run(
            brokers: brokers, topics: Self.parseTopics(topics), bootstrapFile: bootstrapFile)
        FileHandle.standardError.write(Data("segmenter broker: stopped on signal \(signal)\n".utf8))
    }

    /// `events:16,segment-changes:4` → name to partition count; an error names the bad entry.
    static func parseTopics(_ text: String) throws -> [String: Int32] {
        var topics: [String: Int32] = [:]
        for entry in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = entry.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, let partitions = Int32(parts[1]), partitions >= 1 else {
                throw ValidationError(
                    "--topics entry \"\(entry)\" is not name:partitions with at least 1 partition (e.g. events:16)"
                )
            }
            guard topics.updateValue(partitions, forKey: String(parts[0])) == nil else {
                throw ValidationError("--topics names topic \"\(parts[0])\" twice")
            }
        }
        return topics
    }
}
