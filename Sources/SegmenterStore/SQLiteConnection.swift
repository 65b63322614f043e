import CSQLite
import Foundation

/// The one owner of a `sqlite3*` handle: opens the file, sets the pragmas, caches prepared statements by their SQL
/// text and runs transactions. A connection must be used by one thread at a time; the types built on it say so.
final class SQLiteConnection {
    let path: String
    let isReadOnly: Bool
    private let handle: OpaquePointer
    private var statements: [String: SQLiteStatement] = [:]

    /// Opens (and for a writer creates) the database at `path`. A writer gets WAL mode and `options.synchronous`.
    init(path: String, readOnly: Bool, options: StoreOptions = StoreOptions()) throws {
        self.path = path
        self.isReadOnly = readOnly
        let flags = readOnly
            ? SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX
            : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        var opened: OpaquePointer?
        let result = sqlite3_open_v2(path, &opened, flags, nil)
        guard let opened else {
            throw StoreError(
                code: .cannotOpen,
                message: "could not open the database at \(path): SQLite could not allocate a connection",
                path: path,
                sqliteResultCode: result
            )
        }
        handle = opened
        // From here on `self` is fully initialised, so a throw runs `deinit`, which closes the handle.
        guard result == SQLITE_OK else { throw error(result, doing: "opening") }
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_timeout(handle, options.busyTimeoutMilliseconds)
        try exec("PRAGMA cache_size = -\(options.pageCacheKiB)")
        try exec("PRAGMA mmap_size = \(options.memoryMapBytes)")
        if !readOnly { try configureWriter(options) }
    }

    deinit {
        // Statements must be finalized before the handle closes.
        statements.removeAll()
        sqlite3_close_v2(handle)
    }

    private func configureWriter(_ options: StoreOptions) throws {
        // Takes effect only on a new file (before its first table): the outbox's pages, freed as deliveries are
        // confirmed, can then be handed back to the file system at shutdown (`StateStore.checkpoint()`).
        try exec("PRAGMA auto_vacuum = INCREMENTAL")
        let mode = try withStatement("PRAGMA journal_mode = WAL") { statement in
            try statement.step() ? statement.text(0) : ""
        }
        guard mode.lowercased() == "wal" else {
            throw StoreError(
                code: .cannotOpen,
                message: "the database at \(path) cannot use write-ahead logging (journal mode stays '\(mode)'); "
                    + "put the data directory on a local file system",
                path: path
            )
        }
        try exec("PRAGMA synchronous = \(options.synchronous.rawValue)")
        try exec("PRAGMA wal_autocheckpoint = \(options.walAutoCheckpointPages)")
        try exec("PRAGMA foreign_keys = OFF")
    }

    /// Runs one or more SQL statements that take no parameters (schema, pragmas).
    func exec(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let result = sqlite3_exec(handle, sql, nil, nil, &message)
        if let message { sqlite3_free(message) }
        guard result == SQLITE_OK else { throw error(result, doing: "running \(sql)") }
    }

    /// Lends the cached statement for `sql` to `body` and resets it afterwards, so that no statement keeps a read
    /// transaction open between calls.
    func withStatement<R>(_ sql: String, _ body: (SQLiteStatement) throws -> R) throws -> R {
        let statement: SQLiteStatement
        if let cached = statements[sql], !cached.inUse {
            statement = cached
        } else {
            statement = try prepare(sql)
            if statements[sql] == nil { statements[sql] = statement }
        }
        statement.inUse = true
        defer {
            statement.reset()
            statement.inUse = false
        }
        return try body(statement)
    }

    /// Runs the cached statement for `sql` once per element of `rows`, after `bind` set its parameters.
    func runForEach<Rows: Sequence>(
        _ sql: String, _ rows: Rows, bind: (SQLiteStatement, Rows.Element) throws -> Void
    ) throws {
        try withStatement(sql) { statement in
            for row in rows {
                try bind(statement, row)
                try statement.run()
                statement.rewind()
            }
        }
    }

    private func prepare(_ sql: String) throws -> SQLiteStatement {
        var prepared: OpaquePointer?
        let result = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &prepared, nil)
        guard result == SQLITE_OK, let prepared else { throw error(result, doing: "preparing \(sql)") }
        return SQLiteStatement(handle: prepared, connection: self)
    }

    /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT`; if `body` or the commit throws, rolls back and rethrows, so
    /// that nothing of the transaction is visible.
    func transaction<R>(_ body: () throws -> R) throws -> R {
        try withStatement("BEGIN IMMEDIATE") { try $0.run() }
        do {
            let result = try body()
            try withStatement("COMMIT") { try $0.run() }
            return result
        } catch {
            // Some failures (disk full, I/O) end the transaction themselves; a second ROLLBACK would then fail and
            // hide the original error.
            if sqlite3_get_autocommit(handle) == 0 {
                try? withStatement("ROLLBACK") { try $0.run() }
            }
            throw error
        }
    }

    /// The rowid of the last row this connection inserted.
    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Rows changed by the last INSERT, UPDATE or DELETE (0 for an `INSERT OR IGNORE` that was ignored).
    var changes: Int32 { sqlite3_changes(handle) }

    /// Reads a pragma's single value as text, e.g. `pragma("journal_mode")`.
    func pragma(_ name: String) throws -> String? {
        try withStatement("PRAGMA \(name)") { statement in
            try statement.step() ? statement.text(0) : nil
        }
    }

    /// Turns SQLite's result code and message into a `StoreError` that names the file and what to do.
    func error(_ result: Int32, doing action: String) -> StoreError {
        let detail = sqlite3_errmsg(handle).map { String(cString: $0) } ?? String(cString: sqlite3_errstr(result))
        let (code, advice) = Self.classify(result)
        return StoreError(
            code: code,
            message: "\(action) failed on the database at \(path): \(detail). \(advice)",
            path: path,
            sqliteResultCode: result
        )
    }

    private static func classify(_ result: Int32) -> (StoreError.Code, String) {
        switch result & 0xff {
        case SQLITE_BUSY, SQLITE_LOCKED:
            (.busy, "Another process holds the database lock; only one daemon may use a data directory at a time.")
        case SQLITE_CONSTRAINT:
            (.constraintViolation, "A row broke a uniqueness or not-null rule; nothing of this batch was written.")
        case SQLITE_FULL:
            (.diskFull, "Free disk space on the data directory's file system, then restart.")
        case SQLITE_CORRUPT, SQLITE_NOTADB:
            (.corrupt, "The file is damaged or not a segmenter database; restore it or point --data-dir elsewhere.")
        case SQLITE_READONLY, SQLITE_PERM:
            (.readOnly, "Check the permissions of the file and its directory.")
        case SQLITE_CANTOPEN:
            (.cannotOpen, "Check that the directory exists and that this user may read and write it.")
        case SQLITE_IOERR:
            (.ioFailure, "The operating system reported an I/O error; check the disk and the file system.")
        default:
            (.sqlite, "This is unexpected; report it with this message.")
        }
    }
}
