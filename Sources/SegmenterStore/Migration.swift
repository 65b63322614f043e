import Foundation

/// A named schema change. Migrations run in the order of `Migration.all`, each once, inside the writer's
/// transaction, and are recorded in the `migrations` table. A released migration is never edited: a change to
/// the schema is a new migration appended to the list.
struct Migration: Sendable {
    let name: String
    let sql: String

    /// Every migration of the schema, oldest first.
    static let all: [Migration] = [
        v1Initial, audiencesMembership, speedDropPartitionIndex, identityAndErasure, walkOrderAndSample,
    ]

    /// Key in `metadata` that holds the name of the last applied migration, for people looking at the file.
    static let schemaVersionKey = "schema_version"

    private static let v1Initial = Migration(
        name: "v1_initial",
        sql: """
            -- A rowid table, not WITHOUT ROWID: rows carry a state blob of a few hundred bytes, past the size at
            -- which SQLite advises WITHOUT ROWID; measured with 200-byte states, batch upserts were ~24% faster
            -- this way and point lookups ~10% slower.
            CREATE TABLE customers (
                customer_id TEXT NOT NULL PRIMARY KEY,
                partition INTEGER NOT NULL,
                state BLOB NOT NULL,
                segment_id INTEGER,
                segment_since INTEGER,
                transition_seq INTEGER NOT NULL,
                event_count INTEGER NOT NULL,
                last_event_at INTEGER NOT NULL,
                timer_due_at INTEGER
            );
            CREATE INDEX customers_by_partition ON customers(partition);
            CREATE INDEX customers_by_timer_due_at ON customers(timer_due_at) WHERE timer_due_at IS NOT NULL;

            CREATE TABLE offsets (
                topic TEXT NOT NULL,
                partition INTEGER NOT NULL,
                next_offset INTEGER NOT NULL,
                PRIMARY KEY (topic, partition)
            ) WITHOUT ROWID;

            -- AUTOINCREMENT: ids are never reused after deletes, so a publisher paging with afterID never skips
            -- a row that was inserted after the outbox emptied.
            CREATE TABLE outbox (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                event_id TEXT NOT NULL UNIQUE,
                customer_id TEXT NOT NULL,
                partition INTEGER NOT NULL,
                topic TEXT NOT NULL,
                key BLOB,
                payload BLOB NOT NULL,
                headers BLOB,
                created_at INTEGER NOT NULL
            );

            CREATE TABLE transitions (
                customer_id TEXT NOT NULL,
                seq INTEGER NOT NULL,
                from_segment INTEGER,
                to_segment INTEGER NOT NULL,
                at INTEGER NOT NULL,
                cause TEXT NOT NULL,
                PRIMARY KEY (customer_id, seq)
            ) WITHOUT ROWID;

            CREATE TABLE model (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                version INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                blob BLOB NOT NULL
            );

            CREATE TABLE model_snapshots (
                version INTEGER PRIMARY KEY,
                created_at INTEGER NOT NULL,
                blob BLOB NOT NULL
            );

            CREATE TABLE metadata (
                key TEXT NOT NULL PRIMARY KEY,
                value TEXT NOT NULL
            ) WITHOUT ROWID;
            """
    )

    /// Rule audiences (issue 16): each customer's memberships, their Entered/Exited sequence numbers and computed
    /// traits, an opaque blob written in the same upsert as the rest of the row (NULL for customers without any).
    private static let audiencesMembership = Migration(
        name: "audiences_membership",
        sql: "ALTER TABLE customers ADD COLUMN audiences BLOB;"
    )

    /// No query reads customers by partition (rebalances reload by id, through the cache), and the index cost
    /// about 10 bytes per customer on disk and one more b-tree write per changed customer (issue 13).
    private static let speedDropPartitionIndex = Migration(
        name: "speed_drop_customers_by_partition",
        sql: "DROP INDEX IF EXISTS customers_by_partition;"
    )

    /// Identity merges and erasure (issue 18): the identity map (anonymous id → known id, see
    /// `StateStore+Identity.swift` for its bound) and the suppression list of erased ids (`privacy.suppress_erased`).
    private static let identityAndErasure = Migration(
        name: "identity_links_and_suppression",
        sql: """
            CREATE TABLE identity_links (
                anonymous_id TEXT NOT NULL PRIMARY KEY,
                known_id TEXT NOT NULL,
                state INTEGER NOT NULL,
                linked_at INTEGER NOT NULL
            ) WITHOUT ROWID;
            CREATE INDEX identity_links_by_known_id ON identity_links(known_id);
            CREATE INDEX identity_links_by_linked_at ON identity_links(linked_at);
            CREATE TABLE suppressed_customers (
                customer_id TEXT NOT NULL PRIMARY KEY,
                erased_at INTEGER NOT NULL
            ) WITHOUT ROWID;
            """
    )

    /// Walks in the store's own order (issue 25): every walk over customers (round robin, refinement sample, audience
    /// back-fill) follows `(ordinal, customer_id)` — the order the engine first saw customers in, so new customers
    /// append to the index — and the refinement sample is `sample_level >= L`, both read through an index instead
    /// of sorting customers. Rows written before take their rowid as ordinal (their insertion order); their sample
    /// levels, a hash of the id, are filled in by ``StateStore/backfillSampleLevels(_:)``.
    private static let walkOrderAndSample = Migration(
        name: "walk_order_and_sample",
        sql: """
            ALTER TABLE customers ADD COLUMN ordinal INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE customers ADD COLUMN sample_level INTEGER;
            UPDATE customers SET ordinal = rowid;
            CREATE INDEX customers_by_walk ON customers(ordinal, customer_id);
            CREATE INDEX customers_by_sample_level ON customers(sample_level);
            """
    )

    /// Applies the migrations of `list` that `connection` has not recorded yet, in one transaction, and returns
    /// their names. Refuses a database that records a migration this build does not know (written by a newer
    /// segmenter) or whose recorded migrations are not a prefix of `list`.
    static func apply(_ list: [Migration] = all, to connection: SQLiteConnection) throws -> [String] {
        try connection.transaction {
            try connection.exec("""
                CREATE TABLE IF NOT EXISTS migrations (
                    name TEXT NOT NULL PRIMARY KEY,
                    applied_at INTEGER NOT NULL
                )
                """)
            let recorded = try recordedNames(connection)
            try checkPrefix(recorded, of: list, path: connection.path)
            let pending = list.dropFirst(recorded.count)
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            for migration in pending {
                try connection.exec(migration.sql)
                try connection.withStatement("INSERT INTO migrations (name, applied_at) VALUES (?, ?)") { insert in
                    try insert.bind(1, migration.name)
                    try insert.bind(2, now)
                    try insert.run()
                }
            }
            if let last = pending.last {
                try StoreQueries(connection: connection).upsertMetadata(schemaVersionKey, last.name)
            }
            return pending.map(\.name)
        }
    }

    /// Checks, without writing, that the database has exactly the migrations of `list`; the read side uses it to
    /// fail with a clear message instead of "no such table".
    static func verify(_ list: [Migration] = all, on connection: SQLiteConnection) throws {
        let hasTable = try connection.withStatement(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'migrations'"
        ) { try $0.step() }
        let recorded = hasTable ? try recordedNames(connection) : []
        try checkPrefix(recorded, of: list, path: connection.path)
        guard recorded.count == list.count else {
            let missing = list.dropFirst(recorded.count).map(\.name).joined(separator: ", ")
            throw StoreError(
                code: .incompatibleSchema,
                message: "the database at \(connection.path) lacks the migrations \(missing); start the daemon "
                    + "once with this version so that it migrates the file, then retry",
                path: connection.path
            )
        }
    }

    private static func recordedNames(_ connection: SQLiteConnection) throws -> [String] {
        // rowid is the order of insertion, which is the order the migrations ran in.
        try connection.withStatement("SELECT name FROM migrations ORDER BY rowid") { select in
            var names: [String] = []
            while try select.step() { names.append(select.text(0)) }
            return names
        }
    }

    private static func checkPrefix(_ recorded: [String], of list: [Migration], path: String) throws {
        let known = list.prefix(recorded.count).map(\.name)
        guard recorded.count <= list.count, recorded == known else {
            let unknown = recorded.filter { name in !list.contains { $0.name == name } }
            throw StoreError(
                code: .incompatibleSchema,
                message: "the database at \(path) records migrations [\(recorded.joined(separator: ", "))] but this "
                    + "build knows [\(list.map(\.name).joined(separator: ", "))]"
                    + (unknown.isEmpty ? "" : "; \(unknown.joined(separator: ", ")) come from a newer segmenter")
                    + ": run the matching segmenter version, or point --data-dir at a new directory to rebuild",
                path: path
            )
        }
    }
}
