/// One segment of the current model as the live views (the console and `segmenter demo`'s terminal view) show it.
///
/// The status board keeps sizes by segment id, moved by every change, so an id that a refinement or a re-seeding
/// retired stays there at size 0 long after its center is gone. The model's names cover exactly its live centers,
/// so they, not the sizes, decide which segments are listed.
struct LiveSegment: Encodable, Equatable, Sendable {
    var id: Int
    var name: String
    var size: Int64

    /// The current model's segments in id order, with their sizes; empty before the model exists.
    static func list(_ status: PipelineStatus) -> [LiveSegment] {
        status.segmentNames.sorted { $0.key < $1.key }.map {
            LiveSegment(id: $0.key, name: $0.value, size: status.segmentSizes[$0.key] ?? 0)
        }
    }
}
