import Foundation
import SegmenterCore
import SegmenterStore

/// A daemon's data directory: its lock, its SQLite store, and the model and engine progress stored there. Opening
/// one refuses a directory another process holds and a store built with different features, each with a sentence
/// saying what to do. `segmenter model`, `export` and the query side find the store through it too.
public final class DataDirectory {
    public static let databaseFileName = "segmenter.sqlite"
    static let engineProgressKey = "engine_progress"

    public let path: String
    public let store: StateStore
    /// Held until ``close()``.
    private let lock: DataDirectoryLock

    /// The store's file inside `directory`.
    public static func databasePath(in directory: String) -> String {
        URL(fileURLWithPath: directory).appendingPathComponent(databaseFileName).path
    }

    /// Takes the directory's lock and opens (or creates) its store.
    public init(_ directory: String, options: StoreOptions = StoreOptions()) throws {
        guard let lock = try DataDirectoryLock(dataDirectory: directory) else {
            throw SegmenterError(
                .conflict,
                "another segmenter process is using \(directory): stop it first, or give this instance its own "
                    + "--data-dir (each instance of a consumer group needs its own)")
        }
        self.lock = lock
        path = Self.databasePath(in: directory)
        store = try StateStore(path: path, options: options)
        try store.backfillSampleLevels(CustomerSample.level(of:))
    }

    /// Checkpoints the store and gives the lock up.
    public func close() throws {
        try store.checkpoint()
        lock.release()
    }

    /// The stored engine — model and progress between ticks — or a new one; refuses a store built with different
    /// features or model settings.
    func loadEngine(configuration: SegmenterConfiguration) throws -> SegmentationEngine {
        let segmentation = try Self.loadSegmentation(store: store, configuration: configuration, path: path)
        var progress = SegmentationEngine.Progress()
        if let stored = try store.metadata(Self.engineProgressKey), !stored.isEmpty {
            do {
                progress = try JSONDecoder().decode(SegmentationEngine.Progress.self, from: Data(stored.utf8))
            } catch {
                throw SegmenterError(
                    .conflict, "the engine progress stored in \(path) cannot be read (\(error)): start with a new "
                        + "--data-dir and a new kafka.group_id, or restore the file from a backup")
            }
        }
        // A store older than ordinals numbered its customers by rowid; new customers follow every stored one.
        progress.nextOrdinal = max(progress.nextOrdinal, try store.maxOrdinal() + 1)
        var engine = SegmentationEngine(segmentation: segmentation, progress: progress)
        engine.audiences = configuration.audiences
        return engine
    }

    static func encode(_ progress: SegmentationEngine.Progress) -> String {
        // Sorted, so the same progress is always stored as the same text.
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? encoder.encode(progress)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// Restores the model from the store, refusing a data directory built with different features.
    static func loadSegmentation(store: StateStore, configuration: SegmenterConfiguration, path: String) throws
        -> Segmentation
    {
        let spec = configuration.segmentation.features
        try refuseOtherFeatures(than: spec, metadata: store.metadata, path: path)
        try store.setMetadata("feature_fingerprint", spec.fingerprint)
        try store.setMetadata("feature_spec", spec.canonicalDescription)
        guard let model = try store.model() else {
            return Segmentation(configuration: configuration.segmentation)
        }
        do {
            let snapshot = try SegmentationSnapshot.decode(model.blob)
            return try Segmentation(configuration: configuration.segmentation, snapshot: snapshot)
        } catch let mismatch as SnapshotMismatch {
            throw SegmenterError(.conflict, "\(mismatch.description) in \(path): restore the previous model settings, "
                + "or start with a new --data-dir")
        }
    }

    /// Refuses a store built with other features than `spec` (its customers' state would be read wrongly): the one
    /// check the daemon, `replay` and `export` share. `metadata` reads the store's metadata.
    static func refuseOtherFeatures(than spec: FeatureSpec, metadata: (String) throws -> String?, path: String) throws {
        guard let stored = try metadata("feature_fingerprint"), stored != spec.fingerprint else { return }
        let before = try metadata("feature_spec") ?? "(not recorded)"
        let changed = describeChange(before: before, after: spec.canonicalDescription)
        throw SegmenterError(.conflict, """
            the data in \(path) was built with different features (\(changed)). Customer state cannot be \
            carried over: restore the previous `features` configuration (or pass the same --config the daemon runs \
            with), or rebuild from the topic with a new --data-dir (or delete \(path)) and a new kafka.group_id.
            """)
    }

    static func describeChange(before: String, after: String) -> String {
        let old = Set(before.split(separator: "\n").map(String.init))
        let new = Set(after.split(separator: "\n").map(String.init))
        let removed = old.subtracting(new).sorted().map { "was \($0)" }
        let added = new.subtracting(old).sorted().map { "now \($0)" }
        let all = removed + added
        return all.isEmpty ? "feature order changed" : all.prefix(6).joined(separator: "; ")
    }
}
