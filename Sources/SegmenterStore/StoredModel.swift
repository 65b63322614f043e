/// The daemon's serialized model (opaque to the store) with its version; used both for the current model and for
/// a numbered snapshot.
public struct StoredModel: Sendable, Equatable {
    public var version: Int64
    /// When it was saved, epoch milliseconds.
    public var savedAt: Int64
    public var blob: [UInt8]

    public init(version: Int64, savedAt: Int64, blob: [UInt8]) {
        self.version = version
        self.savedAt = savedAt
        self.blob = blob
    }
}
