import Foundation

/// The daemon's single writer to the database: customer state, the outbox, the model, snapshots and the next
/// offsets, all changed together by `commit(_:)` in one transaction (DESIGN §1). Everything it stores beyond its
/// own columns is an opaque blob the daemon serializes.
///
/// Threading: a `StateStore` is not `Sendable`. Its writes (`commit(_:)`, the outbox reads that publishing needs, the
/// model) run on one connection, its customer and offset reads on a second, read-only one, so that the daemon can
/// commit a batch on one thread while it reads for the next batch on another: use each side from one thread at a
/// time. The read side sees the last committed batch, never one in progress. Only one `StateStore` may be open
/// per file; queries from elsewhere go through `StoreReader`.
public final class StateStore {
    /// The database file.
    public var path: String { connection.path }

    let connection: SQLiteConnection
    private let queries: StoreQueries
    /// Transitions kept per customer (``StoreOptions/transitionHistory``).
    private let transitionHistory: Int
    /// The read-only connection behind the customer and offset reads.
    private let reader: SQLiteConnection
    private let readQueries: StoreQueries
    /// Runs inside the transaction of `commit(_:)` just before COMMIT; tests use it to look at the store while a
    /// batch is open and to make a batch fail after all its rows were written.
    var beforeCommit: (() throws -> Void)?

    /// Opens or creates the database at `path` (creating missing parent directories) and applies pending
    /// migrations.
    public init(path: String, options: StoreOptions = StoreOptions()) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw StoreError(
                code: .cannotOpen,
                message: "could not create the directory \(directory.path) for the database at \(path): "
                    + "\(error.localizedDescription); check --data-dir and its permissions",
                path: path
            )
        }
        transitionHistory = options.transitionHistory
        connection = try SQLiteConnection(path: path, readOnly: false, options: options)
        queries = StoreQueries(connection: connection)
        _ = try Migration.apply(to: connection)
        reader = try SQLiteConnection(path: path, readOnly: true, options: options)
        readQueries = StoreQueries(connection: reader)
    }

    // MARK: reads

    public func metadata(_ key: String) throws -> String? { try queries.metadata(key) }

    public func offsets() throws -> [TopicPartitionKey: Int64] { try readQueries.offsets() }

    public func customer(_ id: String) throws -> StoredCustomer? { try readQueries.customer(id) }

    /// The stored customers among `ids`, in the order of `ids`; ids with no row are left out. One query per
    /// ``StoreQueries/idsPerQuery`` ids, not one per id: the daemon loads a poll's customers with it.
    public func customers(ids: some Sequence<String>) throws -> [StoredCustomer] {
        let wanted = Array(ids)
        var byID: [String: StoredCustomer] = [:]
        for start in stride(from: 0, to: wanted.count, by: StoreQueries.idsPerQuery) {
            let chunk = wanted[start..<min(start + StoreQueries.idsPerQuery, wanted.count)]
            for customer in try readQueries.customers(ids: chunk) { byID[customer.customerID] = customer }
        }
        return wanted.compactMap { byID[$0] }
    }

    /// Up to `limit` customers with `customer_id` after `afterID` (from the first when `nil`), in `customer_id`
    /// order: pass the last id of one page to get the next.
    public func customers(afterID: String?, limit: Int) throws -> [StoredCustomer] {
        try readQueries.customers(afterID: afterID, limit: limit)
    }

    /// The ids of ``customers(afterID:limit:)``, read from the primary-key index alone.
    public func customerIDs(afterID: String?, limit: Int) throws -> [String] {
        try readQueries.customerIDs(afterID: afterID, limit: limit)
    }

    /// Up to `limit` customers' walk positions after `(ordinal, id)` (from the first when nil), in that order, read
    /// from the walk index alone.
    public func customerWalk(after: (ordinal: Int64, id: String)?, limit: Int) throws
        -> [(ordinal: Int64, id: String)]
    {
        try readQueries.customerWalk(after: after, limit: limit)
    }

    /// The largest stored ordinal (0 when there are no customers).
    public func maxOrdinal() throws -> Int64 {
        try connection.withStatement("SELECT coalesce(max(ordinal), 0) FROM customers") { select in
            try select.step() ? select.int64(0) : 0
        }
    }

    /// Every customer with a sample level of at least `minimumLevel`, in no particular order.
    public func customers(sampleLevelAtLeast minimumLevel: Int) throws -> [StoredCustomer] {
        try readQueries.customers(sampleLevelAtLeast: minimumLevel)
    }

    /// Fills in the sample level of customers stored before it existed, with `level` (the core's
    /// `CustomerSample.level(of:)`), a page at a time; returns how many it filled. A no-op once done.
    @discardableResult
    public func backfillSampleLevels(_ level: (String) -> Int) throws -> Int {
        var filled = 0
        while true {
            let ids = try connection.withStatement(
                "SELECT customer_id FROM customers WHERE sample_level IS NULL LIMIT 10000"
            ) { select in
                var ids: [String] = []
                while try select.step() { ids.append(select.text(0)) }
                return ids
            }
            guard !ids.isEmpty else { return filled }
            try connection.transaction {
                try connection.withStatement("UPDATE customers SET sample_level = ? WHERE customer_id = ?") { update in
                    for id in ids {
                        update.reset()
                        try update.bind(1, Int64(level(id)))
                        try update.bind(2, id)
                        try update.run()
                    }
                }
            }
            filled += ids.count
        }
    }

    /// Customers whose timer is due at or before `time`, by (due time, id), after the key `after` (exclusive):
    /// pages through due timers without skipping or repeating any.
    public func customersDue(through time: Int64, after: (due: Int64, id: String)?, limit: Int) throws
        -> [StoredCustomer]
    {
        try readQueries.customersDue(through: time, after: after, limit: limit)
    }

    public func customerCount() throws -> Int64 { try readQueries.customerCount() }

    public func model() throws -> StoredModel? { try queries.model() }

    /// The stored snapshots, oldest version first.
    public func snapshots() throws -> [ModelSnapshotInfo] { try queries.snapshots() }

    public func snapshot(version: Int64) throws -> [UInt8]? { try queries.snapshot(version: version) }

    /// Up to `limit` outbox rows with `id` greater than `afterID` (from the first when `nil`), oldest first.
    public func pendingOutbox(limit: Int, afterID: Int64? = nil) throws -> [OutboxRow] {
        let limit = try queries.checkedLimit(limit)
        let sql = "SELECT \(Self.outboxColumns) FROM outbox WHERE id > ? ORDER BY id LIMIT ?"
        return try connection.withStatement(sql) { select in
            try select.bind(1, afterID ?? Int64.min)
            try select.bind(2, limit)
            return try Self.outboxRows(select)
        }
    }

    /// The outbox rows with these ids that are still pending (delivered rows are gone), oldest first.
    public func outboxRows(ids: [Int64]) throws -> [OutboxRow] {
        var rows: [OutboxRow] = []
        for id in ids.sorted() {
            try connection.withStatement("SELECT \(Self.outboxColumns) FROM outbox WHERE id = ?") { select in
                try select.bind(1, id)
                rows += try Self.outboxRows(select)
            }
        }
        return rows
    }

    private static let outboxColumns = "id, event_id, customer_id, partition, topic, key, payload, headers, created_at"

    private static func outboxRows(_ select: SQLiteStatement) throws -> [OutboxRow] {
        var rows: [OutboxRow] = []
        while try select.step() {
            let message = OutboxMessage(
                eventID: select.text(1), customerID: select.text(2),
                partition: Int32(truncatingIfNeeded: select.int64(3)), topic: select.text(4),
                key: select.isNull(5) ? nil : select.blob(5), payload: select.blob(6),
                headers: select.isNull(7) ? [] : OutboxMessage.decodeHeaders(select.blob(7)),
                createdAt: select.int64(8)
            )
            rows.append(OutboxRow(id: select.int64(0), message: message))
        }
        return rows
    }

    public func outboxCount() throws -> Int64 { try readQueries.outboxCount() }

    // MARK: writes

    /// Returns free pages to the file system (in a file created with incremental auto-vacuum: outbox rows come and
    /// go, and their pages would otherwise keep the file at its largest), then folds the write-ahead log back into
    /// the database file and truncates it (at clean shutdown, so the data directory holds one compact file).
    public func checkpoint() throws {
        try connection.exec("PRAGMA incremental_vacuum")
        try connection.exec("PRAGMA wal_checkpoint(TRUNCATE)")
    }

    /// The partitions that have undelivered outbox rows for `topic`.
    public func outboxPartitions(topic: String) throws -> [Int32] {
        try connection.withStatement("SELECT DISTINCT partition FROM outbox WHERE topic = ? ORDER BY partition") {
            try $0.bind(1, topic)
            var partitions: [Int32] = []
            while try $0.step() { partitions.append(Int32($0.int64(0))) }
            return partitions
        }
    }

    /// Deletes the undelivered outbox rows for `topic` in `partition` (rows another instance's newer writes have made
    /// stale); returns how many.
    @discardableResult
    public func deleteOutbox(topic: String, partition: Int32) throws -> Int {
        try connection.transaction {
            try connection.withStatement("DELETE FROM outbox WHERE topic = ? AND partition = ?") {
                try $0.bind(1, topic)
                try $0.bind(2, Int64(partition))
                try $0.run()
            }
            return Int(connection.changes)
        }
    }

    public func setMetadata(_ key: String, _ value: String) throws {
        try connection.transaction { try upsertMetadata(key, value) }
    }

    /// Writes the whole batch in one transaction: customers, outbox messages, transitions, the model and its
    /// snapshot, offsets and metadata. If any of it fails, none of it is visible afterwards and the error is
    /// thrown; the store stays usable.
    /// - Returns: the outbox row id of each of `batch.outbox`, in order; nil for a message ignored because its
    ///   `eventID` was already there. The caller can publish from its own copy of the batch without reading it back.
    @discardableResult
    public func commit(_ batch: StoreBatch) throws -> [Int64?] {
        try connection.transaction {
            try dropPartitions(batch.droppedPartitions)
            try connection.runForEach("DELETE FROM customers WHERE partition = ?", batch.replacedPartitions) {
                try $0.bind(1, Int64($1))
            }
            try removeCustomers(batch.removedCustomers)
            try eraseCustomers(batch.erasedCustomers, suppressing: batch.suppressedCustomers)
            try upsertCustomers(batch.customers)
            try writeIdentityLinks(batch.identityLinks, evicted: batch.evictedIdentityLinks)
            let outboxIDs = try insertOutbox(batch.outbox)
            try insertTransitions(batch.transitions)
            try trimTransitions(batch.transitions)
            if let model = batch.model { try saveModel(model) }
            if let snapshot = batch.modelSnapshot { try insertSnapshot(snapshot) }
            try upsertOffsets(batch.offsets)
            try connection.runForEach("DELETE FROM outbox WHERE id = ?", batch.deleteOutboxIDs) { delete, id in
                try delete.bind(1, id)
            }
            for (key, value) in batch.metadata { try upsertMetadata(key, value) }
            try beforeCommit?()
            return outboxIDs
        }
    }

    private func dropPartitions(_ partitions: [TopicPartitionKey]) throws {
        try connection.runForEach(
            "DELETE FROM transitions WHERE customer_id IN (SELECT customer_id FROM customers WHERE partition = ?)",
            partitions
        ) { try $0.bind(1, Int64($1.partition)) }
        try connection.runForEach("DELETE FROM customers WHERE partition = ?", partitions) {
            try $0.bind(1, Int64($1.partition))
        }
        try connection.runForEach("DELETE FROM offsets WHERE topic = ? AND partition = ?", partitions) {
            try $0.bind(1, $1.topic)
            try $0.bind(2, Int64($1.partition))
        }
    }

    private func upsertCustomers(_ customers: [StoredCustomer]) throws {
        try connection.runForEach(
            """
            INSERT INTO customers (\(StoredCustomer.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(customer_id) DO UPDATE SET
                partition = excluded.partition, state = excluded.state, segment_id = excluded.segment_id,
                segment_since = excluded.segment_since, transition_seq = excluded.transition_seq,
                event_count = excluded.event_count, last_event_at = excluded.last_event_at,
                timer_due_at = excluded.timer_due_at, audiences = excluded.audiences
            """,
            customers
        ) { upsert, customer in
            try upsert.bind(1, customer.customerID)
            try upsert.bind(2, Int64(customer.partition))
            try upsert.bind(3, customer.state)
            try upsert.bind(4, customer.segmentID)
            try upsert.bind(5, customer.segmentSince)
            try upsert.bind(6, customer.transitionSeq)
            try upsert.bind(7, customer.eventCount)
            try upsert.bind(8, customer.lastEventAt)
            try upsert.bind(9, customer.timerDueAt)
            if let audiences = customer.audiences { try upsert.bind(10, audiences) } else { try upsert.bindNull(10) }
            // Ordinal and sample level are not in the update list: they never change for a stored customer, and
            // leaving them out keeps the two indexes on them out of every update.
            try upsert.bind(11, customer.ordinal)
            try upsert.bind(12, customer.sampleLevel)
        }
    }

    private func insertOutbox(_ messages: [OutboxMessage]) throws -> [Int64?] {
        guard !messages.isEmpty else { return [] }
        var ids: [Int64?] = []
        ids.reserveCapacity(messages.count)
        try connection.withStatement(
            """
            INSERT OR IGNORE INTO outbox (event_id, customer_id, partition, topic, key, payload, headers, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """
        ) { insert in
            for message in messages {
                try insert.bind(1, message.eventID)
                try insert.bind(2, message.customerID)
                try insert.bind(3, Int64(message.partition))
                try insert.bind(4, message.topic)
                if let key = message.key { try insert.bind(5, key) } else { try insert.bindNull(5) }
                try insert.bind(6, message.payload)
                if let headers = OutboxMessage.encodeHeaders(message.headers) {
                    try insert.bind(7, headers)
                } else {
                    try insert.bindNull(7)
                }
                try insert.bind(8, message.createdAt)
                try insert.run()
                ids.append(connection.changes == 1 ? connection.lastInsertRowID : nil)
                insert.rewind()
            }
        }
        return ids
    }

    private func insertTransitions(_ transitions: [Transition]) throws {
        try connection.runForEach(
            "INSERT INTO transitions (customer_id, seq, from_segment, to_segment, at, cause) VALUES (?, ?, ?, ?, ?, ?)",
            transitions
        ) { insert, transition in
            try insert.bind(1, transition.customerID)
            try insert.bind(2, transition.seq)
            try insert.bind(3, transition.fromSegment)
            try insert.bind(4, Int64(transition.toSegment))
            try insert.bind(5, transition.at)
            try insert.bind(6, transition.cause)
        }
    }

    /// Deletes what falls out of each customer's kept history with this batch's transitions.
    private func trimTransitions(_ transitions: [Transition]) throws {
        let history = Int64(transitionHistory)
        try connection.runForEach(
            "DELETE FROM transitions WHERE customer_id = ? AND seq <= ?", transitions.lazy.filter { $0.seq > history }
        ) { delete, transition in
            try delete.bind(1, transition.customerID)
            try delete.bind(2, transition.seq - history)
        }
    }

    private func saveModel(_ model: StoredModel) throws {
        try connection.withStatement(
            """
            INSERT INTO model (id, version, updated_at, blob) VALUES (1, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at,
                blob = excluded.blob
            """
        ) { upsert in
            try upsert.bind(1, model.version)
            try upsert.bind(2, model.savedAt)
            try upsert.bind(3, model.blob)
            try upsert.run()
        }
    }

    private func insertSnapshot(_ snapshot: StoredModel) throws {
        try connection.withStatement("INSERT INTO model_snapshots (version, created_at, blob) VALUES (?, ?, ?)") {
            insert in
            try insert.bind(1, snapshot.version)
            try insert.bind(2, snapshot.savedAt)
            try insert.bind(3, snapshot.blob)
            try insert.run()
        }
    }

    private func upsertOffsets(_ offsets: [TopicPartitionKey: Int64]) throws {
        try connection.runForEach(
            """
            INSERT INTO offsets (topic, partition, next_offset) VALUES (?, ?, ?)
            ON CONFLICT(topic, partition) DO UPDATE SET next_offset = excluded.next_offset
            """,
            offsets
        ) { upsert, entry in
            try upsert.bind(1, entry.key.topic)
            try upsert.bind(2, Int64(entry.key.partition))
            try upsert.bind(3, entry.value)
        }
    }

    private func upsertMetadata(_ key: String, _ value: String) throws {
        try queries.upsertMetadata(key, value)
    }
}
