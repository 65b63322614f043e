import ArgumentParser
import SegmenterDaemon

/// `segmenter customers …`: requests about one customer. Like `segmenter model`, a command acts on a stopped
/// daemon's data directory directly and goes through the HTTP API of a running one.
struct CustomersCommandGroup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "customers",
        abstract: "Erase customers (works on a running or a stopped daemon).",
        subcommands: [Erase.self]
    )

    struct Erase: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Forget customers: state, transitions, identity links and pending outbox rows, in one "
                + "transaction; a last change (segment null, cause erased) tells downstream lists to drop them.")
        @OptionGroup var target: ModelCommandGroup.Target
        @Argument(help: "The customer ids to erase.") var ids: [String]

        func validate() throws {
            guard !ids.isEmpty else { throw ValidationError("name at least one customer id to erase") }
        }

        func run() throws {
            let path = ids.count == 1 ? "/v1/customers/\(ModelConsole.pathComponent(ids[0]))" : ""
            try target.perform(.erase(customers: ids), path: path)
        }
    }
}
