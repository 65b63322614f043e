import ArgumentParser
import Foundation
import SegmenterDaemon

/// `segmenter kafka-bench`: hidden throughput probes for the Kafka wrapper, driven by
/// `scripts/bench-kafka`, which compares them with kcat in the same run.
struct KafkaBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kafka-bench",
        abstract: "Measure the Kafka wrapper's consume and produce throughput (prints JSON).",
        shouldDisplay: false,
        subcommands: [Consume.self, Produce.self]
    )

    /// Where to measure and how much; shared by both directions.
    struct Target: ParsableArguments {
        @Option(help: "Bootstrap servers.") var brokers: String
        @Option(help: "Topic to read or write.") var topic: String
        @Option(help: "How many messages to read or write.") var count: Int
    }

    struct Consume: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Consume --count messages from the beginning with a fresh consumer group."
        )

        @OptionGroup var target: Target
        @Option(help: "Give up after this many seconds.") var timeout = 300

        func run() throws {
            print(try KafkaBench.consume(
                brokers: target.brokers, topic: target.topic, count: target.count, timeout: timeout))
        }
    }

    struct Produce: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Produce --count messages (idempotent, lz4 by default) and wait for every delivery report."
        )

        @OptionGroup var target: Target
        @Option(help: "Value size in bytes of generated messages.") var size = 200
        @Option(help: "Send the lines of this file instead of generated values (cycled up to --count).")
        var file: String?
        @Option(help: "compression.type for the producer.") var compression = "lz4"

        func run() throws {
            print(try KafkaBench.produce(
                brokers: target.brokers, topic: target.topic, count: target.count, size: size, file: file,
                compression: compression))
        }
    }
}
