import Foundation
import SegmenterCore
import SegmenterStore

/// An operator's change to the model (`segmenter model …`, `POST /v1/model/…`, `PUT /v1/segments/{id}`).
public enum ModelCommand: Sendable, Equatable {
    case freeze
    case unfreeze
    case retrain
    case rollback(version: Int64)
    case rename(segment: Int, name: String)
    /// Erase these customers (issue 18): carried out by the pipeline (`Pipeline+Erasure.swift`) or offline
    /// (`CustomerErasure`), never by ``ModelAdministration``.
    case erase(customers: [String])
}

/// Carries out ``ModelCommand``s on a segmentation and its store; the same code serves a running daemon (on its
/// pipeline thread, between batches) and a stopped daemon's data directory (`segmenter model …`).
public enum ModelAdministration {
    /// Applies `command`; returns a sentence saying what happened. `fresher` gives a customer's in-memory record
    /// when it is newer than the stored one (the daemon's cache).
    static func apply(
        _ command: ModelCommand, to segmentation: inout Segmentation, store: StateStore,
        fresher: (String) -> CustomerRecord? = { _ in nil }
    ) throws -> String {
        switch command {
        case .erase:
            throw SegmenterError(.invalidRequest, "erasure is carried out by the pipeline, not on the model alone")
        case .freeze:
            segmentation.setFrozen(true)
            return "model version \(segmentation.version) frozen: assignments continue, learning stopped"
        case .unfreeze:
            segmentation.setFrozen(false)
            return "model version \(segmentation.version) learning again"
        case .rename(let id, let name):
            guard !name.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw SegmenterError(.invalidRequest, "a segment name cannot be empty")
            }
            guard segmentation.rename(segment: id, to: name) else {
                let ids = segmentation.kmeans.centers.map { String($0.id) }.joined(separator: ", ")
                throw SegmenterError(.notFound, "there is no segment \(id); segments are \(ids)")
            }
            return "segment \(id) is now called \"\(name)\""
        case .retrain:
            var vectors: [[Double]] = []
            var after: String?
            while true {
                let page = try store.customers(afterID: after, limit: 10_000)
                for row in page {
                    let record = try fresher(row.customerID)
                        ?? CustomerRecord(stored: row, layout: segmentation.layout)
                    vectors.append(segmentation.standardisedVector(of: record))
                }
                guard page.count == 10_000 else { break }
                after = page.last?.customerID
            }
            let seed = segmentation.configuration.kmeans.seed &+ UInt64(bitPattern: segmentation.version)
            guard let report = segmentation.retrain(vectors: vectors, seed: seed) else {
                throw SegmenterError(.conflict, """
                    retrain needs at least k = \(segmentation.configuration.kmeans.k) stored customers; \
                    there are \(vectors.count)
                    """)
            }
            return "retrained over \(vectors.count) customers as model version \(segmentation.version): "
                + "kept ids \(report.keptIDs.sorted()), new ids \(report.newIDs.sorted()), "
                + String(format: "inertia %.4f", report.inertia)
        case .rollback(let version):
            guard let blob = try store.snapshot(version: version) else {
                let versions = try store.snapshots().map { String($0.version) }.joined(separator: ", ")
                throw SegmenterError(.notFound, "there is no model snapshot \(version); stored versions: \(versions)")
            }
            let snapshot = try SegmentationSnapshot.decode(blob)
            let newest = try store.snapshots().map(\.version).max() ?? 0
            var restored = try Segmentation(configuration: segmentation.configuration, snapshot: snapshot)
            restored.installAsVersion(max(newest, segmentation.version) + 1, replacing: segmentation)
            segmentation = restored
            return "model version \(version) restored as version \(segmentation.version)"
        }
    }
}

extension ModelAdministration {
    /// Carries out `command` directly on a stopped daemon's data directory, or returns nil when a running daemon
    /// holds it (then the command must go through its HTTP API).
    public static func runOffline(
        _ command: ModelCommand, dataDirectory: String, configuration: SegmenterConfiguration
    ) throws -> String? {
        let path = URL(fileURLWithPath: dataDirectory).appendingPathComponent(DataDirectory.databaseFileName).path
        guard FileManager.default.fileExists(atPath: path) else {
            throw SegmenterError(
                .notFound, "there is no store at \(path): check --data-dir (the daemon creates it on start)")
        }
        guard let lock = try DataDirectoryLock(dataDirectory: dataDirectory) else { return nil }
        defer { withExtendedLifetime(lock) {} }
        let store = try StateStore(path: path)
        var segmentation = try DataDirectory.loadSegmentation(store: store, configuration: configuration, path: path)
        guard segmentation.kmeans.isInitialised else {
            throw SegmenterError(
                .conflict, "the model in \(path) is not initialised yet: let the daemon consume some events first")
        }
        let before = segmentation.version
        let message = try apply(command, to: &segmentation, store: store)
        var batch = StoreBatch()
        let model = StoredModel(
            version: segmentation.version, savedAt: Int64(Date().timeIntervalSince1970 * 1000),
            blob: try segmentation.snapshot().encoded())
        batch.model = model
        if segmentation.version != before { batch.modelSnapshot = model }
        try store.commit(batch)
        try store.checkpoint()
        return message
    }
}
