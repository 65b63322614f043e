import Foundation

@testable import SegmenterCore

/// One run of the engine over a synthetic shop, with every measure the segment-quality tests check: the published
/// assignments scored against the batch reference on the same final vectors and against the true personas, how
/// many changes were emitted and why, and whether time-driven moves and names separate lapsed customers from
/// active ones.
struct SegmentQualityRun: CustomStringConvertible {
    var customers = 0
    var events = 0
    /// Mean squared distance to the segment's mean, published assignments and batch reference, same vectors.
    var inertia = 0.0
    var referenceInertia = 0.0
    var nmi = 0.0
    var referenceNMI = 0.0
    var changes = 0
    var changesByCause: [SegmentChange.Cause: Int] = [:]
    /// A → B → A within 7 days of event time.
    var flaps = 0
    /// Of customers idle ≥ 28 days at the end: the share in a segment whose name says lapsed.
    var idleInLapsedSegment = 0.0
    /// Of customers with an event in their last 7 days: the share with a `timer` move in the last 28 days.
    var activeWithTimerMove = 0.0
    /// Segment names with their sizes.
    var segments: [(name: String, size: Int)] = []
    var coreEventsPerSecond = 0.0

    var changesPerCustomer: Double { Double(changes) / Double(max(customers, 1)) }
    var inertiaRatio: Double { inertia / referenceInertia }

    var description: String {
        let causes = changesByCause.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value)" }
        return String(
            format: "%d customers × %d events: inertia %.3f vs batch %.3f (%.3f×), NMI %.3f vs batch %.3f; "
                + "%d changes (%.2f per customer; %@), %d flaps; idle ≥ 28 d in a lapsed segment %.0f%%, "
                + "active with a timer move %.0f%%; segments %@; core %.0f events/s",
            customers, events, inertia, referenceInertia, inertiaRatio, nmi, referenceNMI, changes,
            changesPerCustomer, causes.joined(separator: ", "), flaps, idleInLapsedSegment * 100,
            activeWithTimerMove * 100, segments.map { "\($0.name) \($0.size)" }.joined(separator: ", "),
            coreEventsPerSecond)
    }

    static let day: Int64 = 86_400_000

    /// A name that tells a marketer the customer stopped coming.
    static func saysLapsed(_ name: String) -> Bool {
        ["Dormant", "Lapsed", "Lapsing"].contains { name.contains($0) }
    }

    init(
        customers: Int, events: Int, seed: UInt64, configuration: SegmentationConfiguration = .init(),
        shape: SyntheticShoppers.Shape = .realistic
    ) throws {
        let shoppers = SyntheticShoppers(customers: customers, events: events, seed: seed, shape: shape)
        let truthByID = Dictionary(uniqueKeysWithValues: shoppers.truth.map { ($0.customerID, $0.persona) })
        let stream = Array(shoppers)
        var engine = SegmentationEngine(segmentation: Segmentation(configuration: configuration))
        var directory = InMemoryCustomers()
        var emitted: [SegmentChange] = []
        let started = ContinuousClock.now
        for event in stream {
            try engine.apply(event, partition: 0, in: &directory)
            engine.takeChanges { emitted.append($0) }
        }
        try engine.finish(in: &directory)
        engine.takeChanges { emitted.append($0) }
        coreEventsPerSecond = Double(stream.count) / (ContinuousClock.now - started).seconds

        let segmentation = engine.segmentation
        let records = directory.records.filter { $0.segmentID != nil }
        self.customers = directory.count
        self.events = stream.count
        let vectors = records.map { segmentation.standardisedVector(of: $0) }
        let published = records.map { $0.segmentID! }
        let truth = records.map { truthByID[$0.customerID]! }
        let reference = BatchReference.kMeans(vectors, k: configuration.kmeans.k)
        inertia = BatchReference.inertia(vectors, labels: published)
        referenceInertia = reference.inertia
        nmi = BatchReference.nmi(published, truth)
        referenceNMI = BatchReference.nmi(reference.labels, truth)
        let now = segmentation.watermark
        let idle = records.filter { now - $0.state.lastEventAt >= 28 * Self.day }
        changes = emitted.count
        for change in emitted { changesByCause[change.cause, default: 0] += 1 }
        var history: [String: [SegmentChange]] = [:]
        for change in emitted { history[change.customerID, default: []].append(change) }
        for chain in history.values where chain.count >= 2 {
            for (a, b) in zip(chain, chain.dropFirst())
            where b.segment?.id == a.previous?.id && b.at - a.at <= 7 * Self.day {
                flaps += 1
            }
        }
        idleInLapsedSegment = Double(idle.filter { Self.saysLapsed(segmentation.name(of: $0.segmentID!)) }.count)
            / Double(max(idle.count, 1))
        let active = records.filter { now - $0.state.lastEventAt <= 7 * Self.day }
        activeWithTimerMove = Double(active.filter { record in
            history[record.customerID, default: []].contains { $0.cause == .timer && now - $0.at <= 28 * Self.day }
        }.count) / Double(max(active.count, 1))
        var sizes: [Int: Int] = [:]
        for id in published { sizes[id, default: 0] += 1 }
        segments = sizes.sorted { $0.key < $1.key }.map { (segmentation.name(of: $0.key), $0.value) }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
