import Foundation

/// The query side: a read-only connection to the database a `StateStore` writes, for the HTTP API and `export`,
/// usable while the daemon runs in this or another process. Each call sees the latest committed batch and never
/// a batch in progress.
///
/// Threading: not `Sendable`; use a reader from one thread at a time and open one per thread that needs one
/// (opening is cheap).
public final class StoreReader {
    /// The database file.
    public var path: String { connection.path }

    let connection: SQLiteConnection
    private let queries: StoreQueries

    /// Opens the database at `path` read-only. Fails with `.databaseMissing` when there is no file yet and with
    /// `.incompatibleSchema` when it was not migrated by this version.
    public init(path: String, options: StoreOptions = StoreOptions()) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError(
                code: .databaseMissing,
                message: "there is no database at \(path): the daemon has not created it yet "
                    + "(check --data-dir, and start `segmenter run` with the same data directory first)",
                path: path
            )
        }
        connection = try SQLiteConnection(path: path, readOnly: true, options: options)
        queries = StoreQueries(connection: connection)
        try Migration.verify(on: connection)
    }

    public func customer(_ id: String) throws -> StoredCustomer? { try queries.customer(id) }

    /// The customer's last `limit` transitions, newest first.
    public func transitions(customerID: String, limit: Int) throws -> [Transition] {
        let limit = try queries.checkedLimit(limit)
        return try connection.withStatement(
            """
            SELECT seq, from_segment, to_segment, at, cause FROM transitions
            WHERE customer_id = ? ORDER BY seq DESC LIMIT ?
            """
        ) { select in
            try select.bind(1, customerID)
            try select.bind(2, limit)
            var transitions: [Transition] = []
            while try select.step() {
                transitions.append(
                    Transition(
                        customerID: customerID, seq: select.int64(0), fromSegment: select.optionalInt(1),
                        toSegment: Int(select.int64(2)), at: select.int64(3), cause: select.text(4)
                    )
                )
            }
            return transitions
        }
    }

    /// Number of customers per segment; customers not assigned yet are left out.
    public func segmentSizes() throws -> [Int: Int64] {
        try connection.withStatement(
            "SELECT segment_id, count(*) FROM customers WHERE segment_id IS NOT NULL GROUP BY segment_id"
        ) { select in
            var sizes: [Int: Int64] = [:]
            while try select.step() { sizes[Int(select.int64(0))] = select.int64(1) }
            return sizes
        }
    }

    public func customerCount() throws -> Int64 { try queries.customerCount() }

    public func model() throws -> StoredModel? { try queries.model() }

    /// The stored snapshots, oldest version first.
    public func snapshots() throws -> [ModelSnapshotInfo] { try queries.snapshots() }

    public func snapshot(version: Int64) throws -> [UInt8]? { try queries.snapshot(version: version) }

    public func offsets() throws -> [TopicPartitionKey: Int64] { try queries.offsets() }

    public func outboxCount() throws -> Int64 { try queries.outboxCount() }

    public func metadata(_ key: String) throws -> String? { try queries.metadata(key) }

    /// Calls `body` with every customer in `customer_id` order, holding at most `pageSize` in memory.
    ///
    /// Each page is its own read, so a long export does not pin the write-ahead log while the daemon keeps
    /// writing; a customer committed during the export appears if its id sorts after the current page.
    public func forEachCustomer(pageSize: Int = 1000, _ body: (StoredCustomer) throws -> Void) throws {
        var afterID: String?
        while true {
            let page = try queries.customers(afterID: afterID, limit: pageSize)
            for customer in page { try body(customer) }
            guard page.count == pageSize, let last = page.last else { return }
            afterID = last.customerID
        }
    }
}
