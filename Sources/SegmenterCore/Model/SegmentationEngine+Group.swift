extension SegmentationEngine {
    /// Puts the group's model `shared` in place of this engine's (see ``Segmentation/adopting(_:)``). When this
    /// engine had no model yet, the customers waiting for their first segment are assigned now (cause `model`), as at
    /// initialisation; otherwise customers follow the new centers through their events and the round robin.
    public mutating func adopt<D: CustomerDirectory>(_ shared: SegmentationSnapshot, in directory: inout D) throws {
        let wasInitialised = segmentation.kmeans.isInitialised
        segmentation = try segmentation.adopting(shared)
        guard !wasInitialised, segmentation.kmeans.isInitialised else { return }
        progress.appliedSinceRefinement = segmentation.configuration.refineEvery
        try assignPending(in: &directory)
    }
}
