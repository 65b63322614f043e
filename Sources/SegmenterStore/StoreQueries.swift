/// The queries that more than one type runs (the writer `StateStore`, the read side `StoreReader`, the
/// migrations), over whichever connection owns them. Every query uses a cached statement and resets it before
/// returning.
struct StoreQueries {
    let connection: SQLiteConnection

    func metadata(_ key: String) throws -> String? {
        try connection.withStatement("SELECT value FROM metadata WHERE key = ?") { select in
            try select.bind(1, key)
            return try select.step() ? select.text(0) : nil
        }
    }

    /// Must run inside a write transaction.
    func upsertMetadata(_ key: String, _ value: String) throws {
        try connection.withStatement(
            "INSERT INTO metadata (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"
        ) { upsert in
            try upsert.bind(1, key)
            try upsert.bind(2, value)
            try upsert.run()
        }
    }

    func offsets() throws -> [TopicPartitionKey: Int64] {
        try connection.withStatement("SELECT topic, partition, next_offset FROM offsets") { select in
            var offsets: [TopicPartitionKey: Int64] = [:]
            while try select.step() {
                let partition = Int32(truncatingIfNeeded: select.int64(1))
                offsets[TopicPartitionKey(topic: select.text(0), partition: partition)] = select.int64(2)
            }
            return offsets
        }
    }

    func customer(_ id: String) throws -> StoredCustomer? {
        try connection.withStatement(Self.customerByID) { select in
            try select.bind(1, id)
            return try select.step() ? StoredCustomer(row: select) : nil
        }
    }

    /// Ids one ``customers(ids:)`` query takes: its statement has this many placeholders, the unused ones bound to
    /// NULL, so one cached statement serves every chunk.
    static let idsPerQuery = 256

    /// The stored customers among `ids` (at most ``idsPerQuery``), in no particular order.
    func customers(ids: ArraySlice<String>) throws -> [StoredCustomer] {
        precondition(ids.count <= Self.idsPerQuery, "at most \(Self.idsPerQuery) ids per query")
        guard !ids.isEmpty else { return [] }
        return try collect(Self.customersByIDs) { select in
            var index: Int32 = 1
            for id in ids {
                try select.bind(index, id)
                index += 1
            }
            while index <= Int32(Self.idsPerQuery) {
                try select.bindNull(index)
                index += 1
            }
        }
    }

    /// Customers with `customer_id` greater than `afterID` (all when `nil`), in `customer_id` order.
    func customers(afterID: String?, limit: Int) throws -> [StoredCustomer] {
        let limit = try checkedLimit(limit)
        guard let afterID else {
            return try collect("SELECT \(StoredCustomer.columns) FROM customers ORDER BY customer_id LIMIT ?") {
                try $0.bind(1, limit)
            }
        }
        return try collect(
            "SELECT \(StoredCustomer.columns) FROM customers WHERE customer_id > ? ORDER BY customer_id LIMIT ?"
        ) { select in
            try select.bind(1, afterID)
            try select.bind(2, limit)
        }
    }

    /// The ids of ``customers(afterID:limit:)``, in `customer_id` order.
    func customerIDs(afterID: String?, limit: Int) throws -> [String] {
        let limit = try checkedLimit(limit)
        return try connection.withStatement(
            "SELECT customer_id FROM customers WHERE customer_id > ? ORDER BY customer_id LIMIT ?"
        ) { select in
            // Every id is greater than the empty string: one statement for the first page and the others.
            try select.bind(1, afterID ?? "")
            try select.bind(2, limit)
            var ids: [String] = []
            while try select.step() { ids.append(select.text(0)) }
            return ids
        }
    }

    /// Walk positions `(ordinal, customer_id)` after `after`, in that order, from the walk index alone.
    func customerWalk(after: (ordinal: Int64, id: String)?, limit: Int) throws -> [(ordinal: Int64, id: String)] {
        let limit = try checkedLimit(limit)
        let start = after ?? (Int64.min, "")
        return try connection.withStatement(
            """
            SELECT ordinal, customer_id FROM customers WHERE (ordinal, customer_id) > (?, ?)
            ORDER BY ordinal, customer_id LIMIT ?
            """
        ) { select in
            try select.bind(1, start.ordinal)
            try select.bind(2, start.id)
            try select.bind(3, limit)
            var rows: [(ordinal: Int64, id: String)] = []
            while try select.step() { rows.append((select.int64(0), select.text(1))) }
            return rows
        }
    }

    /// Customers with a sample level of at least `minimumLevel` (through its index), in no particular order.
    func customers(sampleLevelAtLeast minimumLevel: Int) throws -> [StoredCustomer] {
        try collect("SELECT \(StoredCustomer.columns) FROM customers WHERE sample_level >= ?") {
            try $0.bind(1, Int64(minimumLevel))
        }
    }

    /// Customers whose timer is due at or before `time`, by (due time, id), after the key `after` (exclusive).
    func customersDue(through time: Int64, after: (due: Int64, id: String)?, limit: Int) throws -> [StoredCustomer] {
        let limit = try checkedLimit(limit)
        let start = after ?? (Int64.min, "")
        return try collect(
            """
            SELECT \(StoredCustomer.columns) FROM customers
            WHERE timer_due_at <= ? AND (timer_due_at > ? OR (timer_due_at = ? AND customer_id > ?))
            ORDER BY timer_due_at, customer_id LIMIT ?
            """
        ) { select in
            try select.bind(1, time)
            try select.bind(2, start.due)
            try select.bind(3, start.due)
            try select.bind(4, start.id)
            try select.bind(5, limit)
        }
    }


    func customerCount() throws -> Int64 {
        try count("SELECT count(*) FROM customers")
    }

    func outboxCount() throws -> Int64 {
        try count("SELECT count(*) FROM outbox")
    }

    func model() throws -> StoredModel? {
        try connection.withStatement("SELECT version, updated_at, blob FROM model WHERE id = 1") { select in
            guard try select.step() else { return nil }
            return StoredModel(version: select.int64(0), savedAt: select.int64(1), blob: select.blob(2))
        }
    }

    func snapshots() throws -> [ModelSnapshotInfo] {
        try connection.withStatement(
            "SELECT version, created_at, length(blob) FROM model_snapshots ORDER BY version"
        ) { select in
            var snapshots: [ModelSnapshotInfo] = []
            while try select.step() {
                snapshots.append(
                    ModelSnapshotInfo(version: select.int64(0), createdAt: select.int64(1), size: select.int64(2))
                )
            }
            return snapshots
        }
    }

    func snapshot(version: Int64) throws -> [UInt8]? {
        try connection.withStatement("SELECT blob FROM model_snapshots WHERE version = ?") { select in
            try select.bind(1, version)
            return try select.step() ? select.blob(0) : nil
        }
    }

    // Built once: the statement cache is keyed by SQL text, and interpolating it on every lookup would cost a
    // string allocation per call on the daemon's hot path.
    private static let customerByID = "SELECT \(StoredCustomer.columns) FROM customers WHERE customer_id = ?"
    private static let customersByIDs = "SELECT \(StoredCustomer.columns) FROM customers WHERE customer_id IN ("
        + Array(repeating: "?", count: idsPerQuery).joined(separator: ", ") + ")"

    private func collect(_ sql: String, bind: (SQLiteStatement) throws -> Void) throws -> [StoredCustomer] {
        try connection.withStatement(sql) { select in
            try bind(select)
            var customers: [StoredCustomer] = []
            while try select.step() { customers.append(StoredCustomer(row: select)) }
            return customers
        }
    }

    private func count(_ sql: String) throws -> Int64 {
        try connection.withStatement(sql) { select in try select.step() ? select.int64(0) : 0 }
    }

    func checkedLimit(_ limit: Int) throws -> Int64 {
        guard limit > 0 else {
            throw StoreError(
                code: .invalidArgument,
                message: "a query on the database at \(connection.path) was given limit \(limit); "
                    + "pass a positive limit",
                path: connection.path
            )
        }
        return Int64(limit)
    }
}
