import Foundation

/// The stored form of a ``Segmentation``'s learned parts (standardiser statistics, centers with ids and counts,
/// random state, watermark, version, pending customers, name overrides). Restoring it gives back exactly the
/// same model, which is what makes restarts and rollbacks exact. Encoded as JSON: it is small once the model
/// is initialised and readable when someone needs to look.
public struct SegmentationSnapshot: Codable, Sendable, Hashable {
    public struct StoredCenter: Codable, Sendable, Hashable {
        public var id: Int
        public var vector: [Double]
        public var count: Double
        public var lastWin: UInt64
    }

    public var featureFingerprint: String
    public var k: Int
    public var version: Int64
    public var watermark: Int64
    public var pendingCustomers: [String]
    public var nameOverrides: [Int: String]
    /// Names as they were in use, so that every reader (API, export, restart) shows the names the changes carried.
    public var names: [Int: String]
    public var standardizerWeight: Double
    public var means: [Double]
    public var squaredDeviations: [Double]
    public var centers: [StoredCenter]
    public var sample: [[Double]]
    public var updates: UInt64
    public var nextID: Int
    public var inertia: Double
    public var randomState: UInt64
    public var farthest: [Double]
    public var farthestDistance: Double
    public var frozen: Bool
    public var driftPerHour: Double
    public var driftAnchorWatermark: Int64?
    public var driftAnchorCenters: [Int: [Double]]?
    /// Recent raw event times, oldest first, and the clamped-event counts. Optional, so that snapshots written
    /// before issue #14 still load (with an empty window: the first events after the upgrade rebuild it).
    public var recentEventTimes: [Int64]?
    public var clampedAhead: UInt64?
    public var clampedBehind: UInt64?
    /// The fitted lifecycle model (issue 24); absent in snapshots written before it, which restore without one until
    /// the next refinement fits it.
    public var lifecycle: LifecycleModel?

    /// The snapshot as stored (sorted JSON). Throws rather than ever storing an empty model.
    public func encoded() throws -> [UInt8] {
        Array(try Self.jsonEncoder().encode(self))
    }

    public static func decode(_ bytes: [UInt8]) throws -> SegmentationSnapshot {
        try jsonDecoder().decode(SegmentationSnapshot.self, from: Data(bytes))
    }

    /// The JSON coders of snapshots and of anything that carries one (the model topic's records): sorted keys, and
    /// non-finite numbers as strings.
    public static func jsonEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    public static func jsonDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }
}

/// A stored model that cannot be used with the current configuration.
public struct SnapshotMismatch: Error, Sendable, CustomStringConvertible {
    public var description: String
}

extension Segmentation {
    public func snapshot() -> SegmentationSnapshot {
        SegmentationSnapshot(
            featureFingerprint: configuration.features.fingerprint, k: configuration.kmeans.k, version: version,
            watermark: watermark, pendingCustomers: pendingCustomers, nameOverrides: nameOverrides, names: names,
            standardizerWeight: standardizer.totalWeight, means: standardizer.means,
            squaredDeviations: standardizer.squaredDeviations,
            centers: kmeans.centers.map { .init(id: $0.id, vector: $0.vector, count: $0.count, lastWin: $0.lastWin) },
            sample: kmeans.sample, updates: kmeans.updates, nextID: kmeans.nextID, inertia: kmeans.inertia,
            randomState: kmeans.rng.state, farthest: kmeans.farthest, farthestDistance: kmeans.farthestDistance,
            frozen: frozen, driftPerHour: driftPerHour, driftAnchorWatermark: driftAnchor?.watermark,
            driftAnchorCenters: driftAnchor?.centers, recentEventTimes: recentEventTimes.inArrivalOrder,
            clampedAhead: clampedAhead, clampedBehind: clampedBehind, lifecycle: lifecycle)
    }

    /// Restores a segmentation; fails when the snapshot was made with different features or k.
    public init(configuration: SegmentationConfiguration, snapshot s: SegmentationSnapshot) throws {
        guard s.featureFingerprint == configuration.features.fingerprint else {
            throw SnapshotMismatch(description:
                "the stored model was built with other features (fingerprint \(s.featureFingerprint), "
                + "configured \(configuration.features.fingerprint))")
        }
        guard s.k == configuration.kmeans.k else {
            throw SnapshotMismatch(description:
                "the stored model has k = \(s.k) but the configuration says model.k = \(configuration.kmeans.k)")
        }
        let spec = configuration.features
        let standardizer = Standardizer(
            transforms: spec.features.map(\.transform), weights: spec.features.map(\.weight),
            forgettingHalfLife: configuration.standardizerHalfLife, totalWeight: s.standardizerWeight,
            means: s.means, squaredDeviations: s.squaredDeviations)
        let kmeans = MiniBatchKMeans(
            configuration: configuration.kmeans, dimensions: spec.features.count,
            centers: s.centers.map { Center(id: $0.id, vector: $0.vector, count: $0.count, lastWin: $0.lastWin) },
            sample: s.sample, updates: s.updates, nextID: s.nextID, inertia: s.inertia,
            rng: SplitMix64(seed: s.randomState), farthest: s.farthest, farthestDistance: s.farthestDistance)
        self.init(
            configuration: configuration, standardizer: standardizer, kmeans: kmeans, watermark: s.watermark,
            version: s.version, pendingCustomers: s.pendingCustomers,
            nameOverrides: s.nameOverrides.merging(configuration.names) { $1 },
            recentEventTimes: s.recentEventTimes ?? [], clampedAhead: s.clampedAhead ?? 0,
            clampedBehind: s.clampedBehind ?? 0)
        frozen = s.frozen
        lifecycle = s.lifecycle
        driftPerHour = s.driftPerHour
        if let watermark = s.driftAnchorWatermark, let centers = s.driftAnchorCenters {
            driftAnchor = (watermark, centers)
        }
        // Names in use stay as they were; names set in the configuration since then win.
        names = s.names.merging(configuration.names.filter { s.names[$0.key] != nil }) { $1 }
    }
}
