import ArgumentParser
import Foundation
import SegmenterDaemon

/// `segmenter model …`: model versions and operator changes. Commands act on a stopped daemon's data directory
/// directly, and go through the HTTP API of a running one.
struct ModelCommandGroup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "List, inspect, freeze, retrain or roll back the model (works on a running or a stopped daemon).",
        subcommands: [List.self, Show.self, Freeze.self, Unfreeze.self, Retrain.self, Rollback.self, Rename.self]
    )

    struct Target: ParsableArguments {
        @Option(name: .long, help: "The daemon's data directory (store.data_dir).")
        var dataDir: String = "./segmenter-data"

        @Option(name: .long, help: "The configuration the daemon runs with (features and model settings).")
        var config: String?

        @Option(name: .long, help: "HTTP address of the running daemon (default: http.listen of the configuration).")
        var http: String?

        var console: ModelConsole { ModelConsole(dataDir: dataDir, config: config, http: http) }

        func perform(_ command: ModelCommand, path: String) throws {
            print(try console.perform(command, path: path))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the stored model snapshots.")
        @OptionGroup var target: Target

        func run() throws {
            print(try target.console.list(), terminator: "")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a model version's segments and profiles.")
        @OptionGroup var target: Target
        @Argument(help: "Snapshot version (default: the current model).") var version: Int64?

        func run() throws {
            print(try target.console.show(version: version))
        }
    }

    struct Freeze: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop learning: assignments continue, centers stay.")
        @OptionGroup var target: Target
        func run() throws { try target.perform(.freeze, path: "/v1/model/freeze") }
    }

    struct Unfreeze: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resume learning.")
        @OptionGroup var target: Target
        func run() throws { try target.perform(.unfreeze, path: "/v1/model/unfreeze") }
    }

    struct Retrain: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Full-batch k-means over every stored customer, installed as a new version "
                + "(ids kept by matching).")
        @OptionGroup var target: Target
        func run() throws { try target.perform(.retrain, path: "/v1/model/retrain") }
    }

    struct Rollback: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Restore a snapshot exactly (centers, counts, standardiser, ids, names) as a new version.")
        @OptionGroup var target: Target
        @Argument(help: "The snapshot version to restore (see `segmenter model list`).") var version: Int64
        func run() throws { try target.perform(.rollback(version: version), path: "/v1/model/rollback/\(version)") }
    }

    struct Rename: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Give a segment your own name.")
        @OptionGroup var target: Target
        @Argument(help: "Segment id.") var id: Int
        @Argument(help: "New name.") var name: String
        func run() throws { try target.perform(.rename(segment: id, name: name), path: "/v1/segments/\(id)") }
    }
}
