import ArgumentParser

@main
struct Segmenter: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segmenter",
        abstract: "Segments e-commerce customers from a Kafka clickstream with online mini-batch k-means.",
        subcommands: [
            RunCommand.self, DemoCommand.self, ReplayCommand.self, GenerateCommand.self, BrokerCommand.self,
            ExportCommand.self, ModelCommandGroup.self, CustomersCommandGroup.self, KafkaBenchCommand.self,
        ]
    )
}
