import Foundation

/// Time and model changes as first-class causes of moves (issue #8): timers for customers whose features age,
/// freezing, full retraining with id-preserving matching, and quality measures.
extension Segmentation {
    /// Probes of a customer's future double from six hours to about 250 days (11 probes); the bracket where the
    /// assignment first changes is then narrowed by bisection to an hour. Ageing is smooth (decays and recency),
    /// so a move found this way is within an hour of the true crossing (a move within the first six hours is
    /// found at the six-hour probe).
    static let firstProbeMs: Int64 = 6 * 3_600_000
    static let resolutionMs: Int64 = 3_600_000
    static let probeCount = 11

    /// Keeps the customer's timer up to date cheaply: it is recomputed only when there is none (a move clears it)
    /// or when it is due. Otherwise the timer stays — new events usually postpone ageing, and a timer that fires
    /// early finds no move and is recomputed then.
    public mutating func refreshTimer(_ record: inout CustomerRecord) {
        if let due = record.timerDueAt, due > watermark { return }
        record.timerDueAt = timerDue(for: record)
    }

    /// The earliest event time at which ageing alone (no new event, current model) would move the customer out
    /// of their segment, probed up to about 250 days ahead; nil when nothing would move them.
    public mutating func timerDue(for record: CustomerRecord) -> Int64? {
        guard kmeans.isInitialised, let current = record.segmentID, record.eventCount > 0 else { return nil }
        let from = max(watermark, record.state.lastEventAt)
        var stays = from
        var offset = Self.firstProbeMs
        for _ in 0..<Self.probeCount {
            let time = from + offset
            if moves(record, from: current, at: time) {
                var moved = time
                while moved - stays > Self.resolutionMs {
                    let middle = stays + (moved - stays) / 2
                    if moves(record, from: current, at: middle) { moved = middle } else { stays = middle }
                }
                return moved
            }
            stays = time
            offset *= 2
        }
        return nil
    }

    private mutating func moves(_ record: CustomerRecord, from current: Int, at time: Int64) -> Bool {
        let target = decision(record, current: current, at: time)
        return target != current && ageingMayMove(to: target)
    }

    /// Why a re-evaluation would move the customer: `model` when the current model would already send them to
    /// the same place as of their last event (the model moved under them), `timer` when it is the time passed
    /// since that changes the answer (ageing).
    mutating func inferredCause(_ record: CustomerRecord) -> SegmentChange.Cause {
        guard let current = record.segmentID else { return .model }
        let target = decision(record, current: current, at: watermark)
        guard target != current else { return .model }
        let lastEvent = max(record.state.lastEventAt, record.segmentSince ?? .min)
        return decision(record, current: current, at: lastEvent) == target ? .model : .timer
    }

    mutating func decision(_ record: CustomerRecord, current: Int, at time: Int64) -> Int {
        record.state.features(at: time, layout: layout, into: &raw)
        standardizer.transform(raw, into: &z)
        return configuration.assigner.segment(
            current: current, since: record.segmentSince, now: time, vector: z, model: kmeans).id
    }

    /// Moves the watermark forward without an event (wall clock while the stream is quiet).
    public mutating func advanceWatermark(to time: Int64) {
        watermark = max(watermark, time)
    }

    /// Stops (or resumes) learning; assignments continue either way.
    public mutating func setFrozen(_ frozen: Bool) {
        self.frozen = frozen
    }

    /// Updates ``driftPerHour`` once at least an hour of event time has passed since the anchor.
    mutating func trackDrift() {
        guard let anchor = driftAnchor else {
            driftAnchor = (watermark, Dictionary(uniqueKeysWithValues: kmeans.centers.map { ($0.id, $0.vector) }))
            return
        }
        let hours = Double(watermark - anchor.watermark) / 3_600_000
        guard hours >= 1 else { return }
        var total = 0.0
        var count = 0
        for center in kmeans.centers {
            guard let before = anchor.centers[center.id] else { continue }
            total += MiniBatchKMeans.squaredDistance(center.vector, before).squareRoot()
            count += 1
        }
        driftPerHour = count > 0 ? total / Double(count) / hours : 0
        driftAnchor = (watermark, Dictionary(uniqueKeysWithValues: kmeans.centers.map { ($0.id, $0.vector) }))
    }

    /// What a retrain did: for each new center, the id it got and how far it is from the old center it replaced.
    public struct RetrainReport: Sendable, Equatable {
        public var keptIDs: [Int]
        public var newIDs: [Int]
        public var inertia: Double
    }

    /// Full-batch k-means (k-means++ initialisation, Lloyd iterations) over `vectors` (standardised, e.g. every
    /// stored customer's current vector), installed as a new model version. New centers are matched to the old
    /// ones by minimum total squared distance; a matched center keeps its old id when it moved less than the
    /// distance from the old center to its next-nearest old center, otherwise it gets a new id.
    public mutating func retrain(vectors: [[Double]], seed: UInt64, iterations: Int = 100) -> RetrainReport? {
        let k = configuration.kmeans.k
        guard vectors.count >= k else { return nil }
        var rng = SplitMix64(seed: seed)
        var model = MiniBatchKMeans(configuration: configuration.kmeans, dimensions: layout.dimensions)
        model.rng = rng
        model.initialise(from: vectors)
        rng = model.rng
        var centers = model.centers.map(\.vector)
        var labels = [Int](repeating: -1, count: vectors.count)
        var counts = [Double](repeating: 0, count: k)
        for _ in 0..<iterations {
            var changed = false
            var sums = [[Double]](repeating: [Double](repeating: 0, count: layout.dimensions), count: k)
            counts = [Double](repeating: 0, count: k)
            for (i, vector) in vectors.enumerated() {
                var best = 0
                var bestDistance = Double.infinity
                for (j, center) in centers.enumerated() {
                    let d = MiniBatchKMeans.squaredDistance(vector, center)
                    if d < bestDistance { bestDistance = d; best = j }
                }
                if labels[i] != best { labels[i] = best; changed = true }
                counts[best] += 1
                for d in 0..<layout.dimensions { sums[best][d] += vector[d] }
            }
            for j in 0..<k where counts[j] > 0 {
                centers[j] = sums[j].map { $0 / counts[j] }
            }
            if !changed { break }
        }
        let inertia = zip(vectors, labels).reduce(0) { $0 + MiniBatchKMeans.squaredDistance($1.0, centers[$1.1]) }
            / Double(vectors.count)
        let (installed, kept, fresh) = matchingIDs(centers: centers, counts: counts)
        kmeans.centers = installed
        kmeans.inertia = inertia
        kmeans.rng = rng
        version += 1
        refreshNames()
        return RetrainReport(keptIDs: kept, newIDs: fresh, inertia: inertia)
    }

    /// Centers that replace the current ones, each given the id of the old center it is matched to (minimum total
    /// squared distance) when it moved less than the distance from that old center to its next-nearest one, a new
    /// id otherwise. Returns the centers with their ids, and which ids were kept and which are new.
    mutating func matchingIDs(centers: [[Double]], counts: [Double]) -> (centers: [Center], kept: [Int], new: [Int]) {
        let old = kmeans.centers
        let cost = centers.map { new in old.map { MiniBatchKMeans.squaredDistance(new, $0.vector) } }
        let match = Assignment.minimumCost(cost)
        var installed: [Center] = []
        var kept: [Int] = []
        var fresh: [Int] = []
        for (j, vector) in centers.enumerated() {
            var id = kmeans.nextID
            if let o = match[j], o < old.count {
                let moved = cost[j][o].squareRoot()
                let nextNearest = old.indices.filter { $0 != o }
                    .map { MiniBatchKMeans.squaredDistance(old[o].vector, old[$0].vector).squareRoot() }.min()
                    ?? .infinity
                if moved < nextNearest { id = old[o].id }
            }
            if id == kmeans.nextID {
                kmeans.nextID += 1
                fresh.append(id)
            } else {
                kept.append(id)
            }
            installed.append(Center(id: id, vector: vector, count: max(1, counts[j]), lastWin: kmeans.updates))
        }
        return (installed, kept, fresh)
    }

    /// Shannon entropy (nats) of the segment size distribution: 0 when everyone is in one segment, log(k) when
    /// segments are equal. A falling value warns of a collapsing model.
    public static func sizeEntropy(_ sizes: [Int: Int64]) -> Double {
        let total = Double(sizes.values.reduce(0, +))
        guard total > 0 else { return 0 }
        return -sizes.values.filter { $0 > 0 }.reduce(0.0) { $0 + Double($1) / total * log(Double($1) / total) }
    }
}

/// Minimum-cost assignment (Hungarian algorithm, O(n³)) for retrain matching.
enum Assignment {
    /// For each row, the column assigned to it (nil when there are more rows than columns and it got none).
    static func minimumCost(_ cost: [[Double]]) -> [Int?] {
        let rows = cost.count
        guard rows > 0 else { return [] }
        let columns = cost[0].count
        let n = max(rows, columns)
        // Square matrix padded with zeros; 1-based arrays as in the classic formulation.
        var a = [[Double]](repeating: [Double](repeating: 0, count: n + 1), count: n + 1)
        for i in 0..<rows { for j in 0..<columns { a[i + 1][j + 1] = cost[i][j] } }
        var u = [Double](repeating: 0, count: n + 1), v = [Double](repeating: 0, count: n + 1)
        var p = [Int](repeating: 0, count: n + 1), way = [Int](repeating: 0, count: n + 1)
        for i in 1...n {
            p[0] = i
            var j0 = 0
            var minv = [Double](repeating: .infinity, count: n + 1)
            var used = [Bool](repeating: false, count: n + 1)
            repeat {
                used[j0] = true
                let i0 = p[j0]
                var delta = Double.infinity
                var j1 = 0
                for j in 1...n where !used[j] {
                    let current = a[i0][j] - u[i0] - v[j]
                    if current < minv[j] { minv[j] = current; way[j] = j0 }
                    if minv[j] < delta { delta = minv[j]; j1 = j }
                }
                for j in 0...n {
                    if used[j] { u[p[j]] += delta; v[j] -= delta } else { minv[j] -= delta }
                }
                j0 = j1
            } while p[j0] != 0
            repeat {
                let j1 = way[j0]
                p[j0] = p[j1]
                j0 = j1
            } while j0 != 0
        }
        var result = [Int?](repeating: nil, count: rows)
        for j in 1...n where p[j] >= 1 && p[j] <= rows && j <= columns {
            result[p[j] - 1] = j - 1
        }
        return result
    }
}

extension Segmentation {
    /// After a rollback: the restored model keeps its centers, counts, standardiser, ids and names exactly, but
    /// takes a new version number and the stream's current time from `current`: its watermark (time does not go
    /// backwards), recent event times, clamped-event counts and pending customers.
    public mutating func installAsVersion(_ version: Int64, replacing current: Segmentation) {
        self.version = version
        watermark = max(watermark, current.watermark)
        pendingCustomers = current.pendingCustomers
        recentEventTimes = current.recentEventTimes
        clampedAhead = current.clampedAhead
        clampedBehind = current.clampedBehind
    }
}
