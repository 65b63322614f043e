/// Decides a customer's segment from its standardised vector: the nearest center, but a customer already in a
/// segment leaves it only when the new center is clearly closer, `d(B) < (1 − margin)·d(A)`, and (optionally)
/// only after a minimum dwell time, so campaigns do not fire on customers flapping between two centers.
public struct SegmentAssigner: Sendable, Hashable {
    /// Hysteresis margin in [0, 1). Default: 0.1.
    public var margin: Double
    /// Minimum time in a segment before an event can move the customer out. Default: 0.
    public var minimumDwellMilliseconds: Int64

    public init(margin: Double = 0.1, minimumDwellMilliseconds: Int64 = 0) {
        self.margin = margin
        self.minimumDwellMilliseconds = minimumDwellMilliseconds
    }

    public func problems() -> [String] {
        var problems: [String] = []
        if !(margin >= 0 && margin < 1) { problems.append("model.hysteresis_margin: \(margin) must be in [0, 1)") }
        if minimumDwellMilliseconds < 0 { problems.append("model.min_dwell_minutes: must be ≥ 0") }
        return problems
    }

    /// The id of the segment the customer should be in, given its current segment (nil if none), when it
    /// entered it, the time now (event time), its vector and the model.
    public func segment(
        current: Int?, since: Int64?, now: Int64, vector z: [Double], model: MiniBatchKMeans
    ) -> (id: Int, nearest: (index: Int, squaredDistance: Double)) {
        let nearest = model.nearest(z)
        let nearestID = model.centers[nearest.index].id
        guard let current, current != nearestID, let currentIndex = model.index(ofID: current) else {
            return (nearestID, nearest)
        }
        if let since, now - since < minimumDwellMilliseconds {
            return (current, nearest)
        }
        let currentDistance = MiniBatchKMeans.squaredDistance(z, model.centers[currentIndex].vector).squareRoot()
        let moves = nearest.squaredDistance.squareRoot() < (1 - margin) * currentDistance
        return (moves ? nearestID : current, nearest)
    }
}
