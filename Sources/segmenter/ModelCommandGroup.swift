import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import SegmenterCore
import SegmenterDaemon
import SegmenterStore

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

        var databasePath: String {
            URL(fileURLWithPath: dataDir).appendingPathComponent(DataDirectory.databaseFileName).path
        }

        /// Offline when the data directory is free, else through the running daemon's API.
        func perform(_ command: ModelCommand, path: String) throws {
            let configuration = try SegmenterConfiguration.load(path: config)
            if let message = try ModelAdministration.runOffline(
                command, dataDirectory: dataDir, configuration: configuration)
            {
                print(message)
                return
            }
            let address = http ?? "\(configuration.http.host):\(configuration.http.port)"
            let url = URL(string: "http://\(address)\(path)")!
            var request = URLRequest(url: url, timeoutInterval: 90)
            if let token = configuration.http.token {
                request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
            }
            if case .rename(_, let name) = command {
                request.httpMethod = "PUT"
                request.httpBody = try JSONEncoder().encode(["name": name])
            } else {
                request.httpMethod = "POST"
            }
            let (status, body) = try send(request)
            let answer = (try? JSONDecoder().decode([String: String].self, from: body)) ?? [:]
            if status == 401 {
                throw CommandError("""
                    the running daemon needs its HTTP token: set SEGMENTER_HTTP_TOKEN (or http.token in the file \
                    given with --config) to the daemon's http.token
                    """)
            }
            guard status == 200, let result = answer["result"] else {
                throw CommandError("the running daemon refused: \(answer["error"] ?? "HTTP \(status)")")
            }
            print(result)
        }

        private func send(_ request: URLRequest) throws -> (Int, Data) {
            let done = DispatchSemaphore(value: 0)
            nonisolated(unsafe) var outcome: Result<(Int, Data), Error> = .failure(CommandError("no answer"))
            URLSession.shared.dataTask(with: request) { data, response, error in
                if let error {
                    outcome = .failure(CommandError("""
                        another process holds \(dataDir) but \(request.url!) does not answer (\
                        \(error.localizedDescription)): pass --http with the daemon's http.listen address, or stop \
                        the daemon and run this again
                        """))
                } else {
                    outcome = .success(((response as? HTTPURLResponse)?.statusCode ?? 0, data ?? Data()))
                }
                done.signal()
            }.resume()
            done.wait()
            return try outcome.get()
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the stored model snapshots.")
        @OptionGroup var target: Target

        func run() throws {
            let reader = try StoreReader(path: target.databasePath)
            let current = try reader.model()
            print("version  created                   size")
            for snapshot in try reader.snapshots() {
                let marker = snapshot.version == current?.version ? "  (current)" : ""
                print(String(format: "%7lld  %@  %6lld B", snapshot.version, RFC3339.format(snapshot.createdAt),
                             snapshot.size) + marker)
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a model version's segments and profiles.")
        @OptionGroup var target: Target
        @Argument(help: "Snapshot version (default: the current model).") var version: Int64?

        func run() throws {
            let configuration = try SegmenterConfiguration.load(path: target.config)
            let reader = try StoreReader(path: target.databasePath)
            let blob: [UInt8]
            if let version {
                guard let stored = try reader.snapshot(version: version) else {
                    throw CommandError("there is no model snapshot \(version): see `segmenter model list`")
                }
                blob = stored
            } else {
                guard let current = try reader.model() else { throw CommandError("no model stored yet") }
                blob = current.blob
            }
            let segmentation = try Segmentation(
                configuration: configuration.segmentation, snapshot: SegmentationSnapshot.decode(blob))
            let sizes = try reader.segmentSizes().reduce(into: [Int: Int]()) { $0[$1.key] = Int($1.value) }
            print("model version \(segmentation.version)\(segmentation.frozen ? " (frozen)" : ""), "
                + "\(segmentation.kmeans.updates) vectors learned, inertia \(segmentation.kmeans.inertia)\n")
            print(SegmentTable.render(segmentation: segmentation, sizes: sizes))
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
