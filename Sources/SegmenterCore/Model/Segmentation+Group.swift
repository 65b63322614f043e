/// One model for a consumer group (DESIGN §7): the instance that owns the input's partition 0 learns the model and
/// publishes it; the others follow, assigning their customers with the published model and learning nothing. What a
/// model is made of travels as a ``SegmentationSnapshot`` without the parts that belong to one instance's stream.
extension Segmentation {
    /// Stops (following) or starts (leading) learning; assignments go on either way.
    public mutating func setFollowing(_ following: Bool) {
        self.following = following
    }

    /// The model as the group shares it: standardiser statistics, centers with ids, counts and random state, names,
    /// version, frozen. The parts that belong to this instance's stream — customers waiting for a first segment,
    /// the initial sample, the recent event times and clamp counts — are left out.
    public func sharedSnapshot() -> SegmentationSnapshot {
        var shared = snapshot()
        shared.pendingCustomers = []
        shared.sample = []
        shared.recentEventTimes = nil
        shared.clampedAhead = nil
        shared.clampedBehind = nil
        return shared
    }

    /// This segmentation with the group's model `shared` in place of its own learned parts. What belongs to this
    /// instance's stream stays: its watermark (once it has one), the customers waiting for a first segment, the
    /// recent event times and clamp counts, and the role (``following``). Throws ``SnapshotMismatch`` when the model
    /// was built with other features or another k: every instance of a group must run the same `features` and
    /// `model.k`.
    public func adopting(_ shared: SegmentationSnapshot) throws -> Segmentation {
        var snapshot = shared
        // An instance that has applied nothing yet takes the leader's time, so its customers age as the group's do.
        snapshot.watermark = watermark == .min ? shared.watermark : watermark
        snapshot.pendingCustomers = pendingCustomers
        snapshot.sample = shared.centers.isEmpty ? kmeans.sample : []
        snapshot.recentEventTimes = recentEventTimes.inArrivalOrder
        snapshot.clampedAhead = clampedAhead
        snapshot.clampedBehind = clampedBehind
        var adopted = try Segmentation(configuration: configuration, snapshot: snapshot)
        adopted.following = following
        return adopted
    }
}
