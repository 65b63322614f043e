import ArgumentParser

struct BrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "broker", abstract: "Not built yet.")

    func run() async throws {
        throw ValidationError("segmenter broker is not built yet")
    }
}
