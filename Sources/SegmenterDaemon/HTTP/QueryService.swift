import Foundation
import SegmenterCore
import SegmenterStore

/// The read side of the HTTP API: answers customer, segment and model questions from SQLite through a
/// read-only connection (so it never blocks the pipeline's writes), with the stored model for names, profiles and
/// the watermark. One connection, used under a lock: the API is for lookups, not for bulk reads.
public final class QueryService: @unchecked Sendable {
    public struct SegmentRef: Codable, Sendable {
        var id: Int
        var name: String
    }

    public struct TransitionView: Codable, Sendable {
        var seq: Int64
        var from: SegmentRef?
        var to: SegmentRef
        var at: String
        var cause: String
    }

    public struct CustomerView: Codable, Sendable {
        /// The id asked for.
        var customerID: String
        /// The id the customer's state lives under: the asked id, or the known id it was merged into (issue 18).
        var canonicalID: String
        /// Ids merged into the canonical one.
        var mergedIDs: [String]
        var segment: SegmentRef?
        var since: String?
        var eventCount: Int64
        var lastEventAt: String
        var partition: Int32
        var features: [String: Double]
        var transitions: [TransitionView]
        /// The rule audiences the customer is in, in configuration order.
        var audiences: [AudienceRef]
        var traits: [String: TraitView]
        /// Lifecycle stage, predictions over `predictions.horizon_days` and RFM scores as of the watermark, as
        /// `segmenter export` writes them (issue 24); absent while no lifecycle model is fitted.
        var lifecycle: String?
        var predictions: PredictionsView?
        var rfm: RFMScores?
    }

    public struct PredictionsView: Codable, Sendable {
        var pAlive: Double
        var expectedOrders: Double
        var expectedRevenue: Double
    }

    public struct AudienceRef: Codable, Sendable {
        var id: String
        var name: String
    }

    /// A computed trait's value: a number, a text, or null when the customer has none.
    public struct TraitView: Codable, Sendable {
        var value: TraitValue?

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() {
                value = nil
            } else if let number = try? container.decode(Double.self) {
                value = .number(number)
            } else {
                value = .text(try container.decode(String.self))
            }
        }

        init(_ value: TraitValue?) { self.value = value }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch value {
            case .number(let x)?: try container.encode(x)
            case .text(let s)?: try container.encode(s)
            case nil: try container.encodeNil()
            }
        }
    }

    /// What `POST /v1/audiences/preview` answers: how many stored customers the condition holds for now, out of
    /// how many, and a sample of their ids (the first in id order).
    public struct PreviewView: Codable, Sendable {
        var when: String
        var size: Int64
        var customers: Int64
        var sample: [String]
    }

    public struct SegmentView: Codable, Sendable {
        var id: Int
        var name: String
        var size: Int64
        var profile: [String: Double]
    }

    public struct ModelView: Codable, Sendable {
        var version: Int64
        var k: Int
        var initialised: Bool
        var inertia: Double
        var updates: UInt64
        var createdAt: String?
        var savedAt: String?
        var watermark: String?
        var frozen: Bool
        var sizeEntropy: Double
        var driftPerHour: Double
        var features: [FeatureView]
        /// The group's model, from the running daemon (absent offline, or with `kafka.topics.model: off`).
        var group: GroupModelStatus?
    }

    public struct FeatureView: Codable, Sendable {
        var name: String
        var definition: String
        var weight: Double
    }

    private struct Connection {
        var reader: StoreReader?
        var model: (savedAt: Int64, version: Int64, segmentation: Segmentation)?
    }

    private let path: String
    private let configuration: SegmentationConfiguration
    private let audiences: AudienceRules
    /// Guarded by `lock`: the reader is not thread-safe and requests arrive on several threads.
    private var connection = Connection()
    private let lock = NSLock()

    public init(dataDirectory: String, configuration: SegmentationConfiguration, audiences: AudienceRules = .none) {
        path = URL(fileURLWithPath: dataDirectory).appendingPathComponent(DataDirectory.databaseFileName).path
        self.configuration = configuration
        self.audiences = audiences
    }

    /// Runs `body` with an open reader and the current model (reloaded when the stored model changed).
    private func withStore<R>(_ body: (StoreReader, Segmentation, Int64?) throws -> R) throws -> R {
        lock.lock()
        defer { lock.unlock() }
        return try { (c: inout Connection) in
            if c.reader == nil { c.reader = try StoreReader(path: path) }
            let reader = c.reader!
            let stored = try reader.model()
            if let stored {
                if c.model?.savedAt != stored.savedAt || c.model?.version != stored.version {
                    let snapshot = try SegmentationSnapshot.decode(stored.blob)
                    c.model = (stored.savedAt, stored.version,
                               try Segmentation(configuration: configuration, snapshot: snapshot))
                }
            } else {
                c.model = nil
            }
            return try body(reader, c.model?.segmentation ?? Segmentation(configuration: configuration),
                            stored?.savedAt)
        }(&connection)
    }

    public func customer(_ id: String, transitions limit: Int = 10) throws -> CustomerView {
        try withStore { reader, segmentation, _ in
            var canonical = id
            // A merged id answers with the customer it was merged into (a few hops for a chain a → b → c).
            for _ in 0..<8 {
                guard try reader.customer(canonical) == nil, let link = try reader.identityLink(anonymousID: canonical),
                      link.state > 0
                else { break }
                canonical = link.knownID
            }
            guard let stored = try reader.customer(canonical) else {
                throw SegmenterError(
                    .notFound,
                    "no customer \"\(id)\": no valid event for this customer_id has been applied here (with several "
                        + "instances, ask the one that owns the customer's partition)")
            }
            let record = try CustomerRecord(stored: stored, layout: segmentation.layout)
            let lifecycle = segmentation.traits(of: record.state)
            let features = Dictionary(
                segmentation.features(of: record).map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
            func ref(_ id: Int?) -> SegmentRef? { id.map { SegmentRef(id: $0, name: segmentation.name(of: $0)) } }
            let history = try reader.transitions(customerID: canonical, limit: limit).map {
                TransitionView(seq: $0.seq, from: ref($0.fromSegment), to: ref($0.toSegment)!,
                               at: RFC3339.format($0.at), cause: $0.cause)
            }
            return CustomerView(
                customerID: id, canonicalID: canonical, mergedIDs: try reader.mergedIDs(into: canonical),
                segment: ref(stored.segmentID),
                since: stored.segmentSince.map(RFC3339.format), eventCount: stored.eventCount,
                lastEventAt: RFC3339.format(stored.lastEventAt), partition: stored.partition,
                features: features, transitions: history,
                audiences: audiences.audiences.filter { record.audiences.memberships[$0.id]?.isMember == true }
                    .map { AudienceRef(id: $0.id, name: $0.name) },
                traits: Dictionary(
                    audiences.traitValues(of: record, at: segmentation.watermark).map {
                        ($0.name, TraitView($0.value))
                    },
                    uniquingKeysWith: { $1 }),
                lifecycle: lifecycle.lifecycle?.rawValue,
                predictions: lifecycle.prediction.map {
                    PredictionsView(
                        pAlive: $0.pAlive, expectedOrders: $0.expectedOrders, expectedRevenue: $0.expectedRevenue)
                },
                rfm: lifecycle.rfm)
        }
    }

    /// Evaluates `condition` over every stored customer as of the stored watermark, changing nothing.
    public func preview(_ condition: AudienceCondition, sampleSize: Int = 20) throws -> PreviewView {
        try withStore { reader, segmentation, _ in
            var view = PreviewView(when: condition.text, size: 0, customers: 0, sample: [])
            try reader.forEachCustomer { stored in
                view.customers += 1
                let record = try CustomerRecord(stored: stored, layout: segmentation.layout)
                guard audiences.matches(condition, record, segmentation: segmentation) else { return }
                view.size += 1
                if view.sample.count < sampleSize { view.sample.append(stored.customerID) }
            }
            return view
        }
    }

    public func segments() throws -> [SegmentView] {
        try withStore { reader, segmentation, _ in
            let sizes = try reader.segmentSizes()
            let names = configuration.features.features.map(\.name)
            return segmentation.profiles().map { profile in
                SegmentView(
                    id: profile.id, name: profile.name, size: sizes[profile.id] ?? 0,
                    profile: Dictionary(zip(names, profile.profile).map { ($0, $1) }, uniquingKeysWith: { $1 }))
            }
        }
    }

    public func model() throws -> ModelView {
        try withStore { reader, segmentation, savedAt in
            let snapshots = try reader.snapshots()
            let created = snapshots.last { $0.version == segmentation.version }?.createdAt
            return ModelView(
                version: segmentation.version, k: configuration.kmeans.k,
                initialised: segmentation.kmeans.isInitialised, inertia: segmentation.kmeans.inertia,
                updates: segmentation.kmeans.updates, createdAt: created.map(RFC3339.format),
                savedAt: savedAt.map(RFC3339.format),
                watermark: segmentation.watermark == .min ? nil : RFC3339.format(segmentation.watermark),
                frozen: segmentation.frozen, sizeEntropy: Segmentation.sizeEntropy(try reader.segmentSizes()),
                driftPerHour: segmentation.driftPerHour,
                features: configuration.features.features.map {
                    FeatureView(name: $0.name, definition: $0.description, weight: $0.weight)
                })
        }
    }
}
