/// What `snapshots()` lists about one stored model snapshot, without its bytes.
public struct ModelSnapshotInfo: Sendable, Equatable {
    public var version: Int64
    public var createdAt: Int64
    /// Size of the snapshot's blob in bytes.
    public var size: Int64

    public init(version: Int64, createdAt: Int64, size: Int64) {
        self.version = version
        self.createdAt = createdAt
        self.size = size
    }
}
