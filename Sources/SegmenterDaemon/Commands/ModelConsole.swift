import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import SegmenterCore
import SegmenterStore

/// What `segmenter model …` does: lists and shows stored model versions, and carries out operator commands on a
/// stopped daemon's data directory directly or through the HTTP API of the daemon that holds it.
public struct ModelConsole: Sendable {
    public var dataDir: String
    /// The configuration file the daemon runs with (features and model settings), if any.
    public var config: String?
    /// The running daemon's HTTP address; default: `http.listen` of the configuration.
    public var http: String?

    public init(dataDir: String, config: String?, http: String?) {
        self.dataDir = dataDir
        self.config = config
        self.http = http
    }

    var databasePath: String { DataDirectory.databasePath(in: dataDir) }

    /// Offline when the data directory is free, else through the running daemon's API.
    public func perform(_ command: ModelCommand, path: String) throws -> String {
        let configuration = try SegmenterConfiguration.load(path: config)
        let offline = if case .erase(let ids) = command {
            try CustomerErasure.runOffline(ids, dataDirectory: dataDir, configuration: configuration)
        } else {
            try ModelAdministration.runOffline(command, dataDirectory: dataDir, configuration: configuration)
        }
        if let offline { return offline }
        if case .erase(let ids) = command, ids.count != 1 {
            // The API erases one id per request.
            return try ids.map { id in
                try perform(.erase(customers: [id]), path: "/v1/customers/\(Self.pathComponent(id))")
            }.joined(separator: "\n")
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
        } else if case .erase = command {
            request.httpMethod = "DELETE"
        } else {
            request.httpMethod = "POST"
        }
        let (status, body) = try send(request)
        let answer = (try? JSONDecoder().decode([String: String].self, from: body)) ?? [:]
        if status == 401 {
            throw SegmenterError(.unauthorized, """
                the running daemon needs its HTTP token: set SEGMENTER_HTTP_TOKEN (or http.token in the file \
                given with --config) to the daemon's http.token
                """)
        }
        guard status == 200, let result = answer["result"] else {
            throw SegmenterError(
                answer["code"].flatMap(SegmenterError.Code.init(rawValue:)) ?? .unavailable,
                "the running daemon refused: \(answer["error"] ?? "HTTP \(status)")")
        }
        return result
    }

    /// `id` escaped for one URL path segment.
    public static func pathComponent(_ id: String) -> String {
        id.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? id
    }

    private func send(_ request: URLRequest) throws -> (Int, Data) {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var outcome: Result<(Int, Data), Error> = .failure(SegmenterError(
            .unavailable, "the daemon gave no answer: check its log and GET /readyz"))
        URLSession.shared.dataTask(with: request) { data, response, error in
            if let error {
                outcome = .failure(SegmenterError(.unavailable, """
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

    /// The stored model snapshots, one line each, the current one marked.
    public func list() throws -> String {
        let reader = try StoreReader(path: databasePath)
        let current = try reader.model()
        var out = "version  created                   size\n"
        for snapshot in try reader.snapshots() {
            let marker = snapshot.version == current?.version ? "  (current)" : ""
            out += String(format: "%7lld  %@  %6lld B", snapshot.version, RFC3339.format(snapshot.createdAt),
                          snapshot.size) + marker + "\n"
        }
        return out
    }

    /// A model version's segments and profiles (the current model when `version` is nil).
    public func show(version: Int64?) throws -> String {
        let configuration = try SegmenterConfiguration.load(path: config)
        let reader = try StoreReader(path: databasePath)
        let blob: [UInt8]
        if let version {
            guard let stored = try reader.snapshot(version: version) else {
                throw SegmenterError(.notFound, "there is no model snapshot \(version): see `segmenter model list`")
            }
            blob = stored
        } else {
            guard let current = try reader.model() else {
                throw SegmenterError(.notFound, "no model stored yet in \(databasePath)")
            }
            blob = current.blob
        }
        let segmentation = try Segmentation(
            configuration: configuration.segmentation, snapshot: SegmentationSnapshot.decode(blob))
        let sizes = try reader.segmentSizes().reduce(into: [Int: Int]()) { $0[$1.key] = Int($1.value) }
        return "model version \(segmentation.version)\(segmentation.frozen ? " (frozen)" : ""), "
            + "\(segmentation.kmeans.updates) vectors learned, inertia \(segmentation.kmeans.inertia)\n\n"
            + SegmentTable.render(segmentation: segmentation, sizes: sizes)
    }
}
