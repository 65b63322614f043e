/// Settings of the writer connection. Every field has a default that suits the daemon.
public struct StoreOptions: Sendable, Equatable {
    /// How hard SQLite pushes each commit to disk.
    public enum Synchronous: String, Sendable, Equatable {
        /// Every commit survives a process crash (`kill -9`); a power loss may drop the last commits.
        case normal = "NORMAL"
        /// Every commit also survives a power loss, at the cost of an fsync per commit.
        case full = "FULL"
    }

    /// Durability of each commit (`PRAGMA synchronous`). Default: `.normal`.
    public var synchronous: Synchronous
    /// How long a statement waits for another connection's lock before failing with `.busy`. Default: 5000 ms.
    public var busyTimeoutMilliseconds: Int32
    /// Pages of write-ahead log after which a commit folds the log back into the database file
    /// (`PRAGMA wal_autocheckpoint`). Each checkpoint costs an fsync, so the default lets the log grow to about
    /// 40 MiB. Default: 10000.
    public var walAutoCheckpointPages: Int32
    /// SQLite's page cache per connection, in KiB (`PRAGMA cache_size`). Default: 65536 (64 MiB).
    public var pageCacheKiB: Int32
    /// Bytes of the database file read through memory mapping instead of `pread` (`PRAGMA mmap_size`).
    /// Default: 256 MiB.
    public var memoryMapBytes: Int64
    /// Transitions kept per customer, newest first: the batch that stores a customer's transition number `n`
    /// deletes those up to `n − transitionHistory`, so the history (shown by `GET /v1/customers/{id}`) stays
    /// bounded however often a customer moves. Default: 20.
    public var transitionHistory: Int

    public init(
        synchronous: Synchronous = .normal,
        busyTimeoutMilliseconds: Int32 = 5000,
        walAutoCheckpointPages: Int32 = 10_000,
        pageCacheKiB: Int32 = 65_536,
        memoryMapBytes: Int64 = 268_435_456,
        transitionHistory: Int = 20
    ) {
        self.synchronous = synchronous
        self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
        self.walAutoCheckpointPages = walAutoCheckpointPages
        self.pageCacheKiB = pageCacheKiB
        self.memoryMapBytes = memoryMapBytes
        self.transitionHistory = max(1, transitionHistory)
    }
}
