import CSQLite

/// One prepared statement, owned and cached by its `SQLiteConnection`. Parameter and column indexes are as in the
/// C API: parameters count from 1, columns from 0. Not for use outside the store module.
final class SQLiteStatement {
    private let handle: OpaquePointer
    /// Unowned: the connection owns its statements and finalizes them before it closes.
    private unowned let connection: SQLiteConnection
    /// Set while a caller is between `prepare` and `reset`, so that a nested use of the same SQL gets its own
    /// statement instead of resetting this one under the caller.
    var inUse = false

    init(handle: OpaquePointer, connection: SQLiteConnection) {
        self.handle = handle
        self.connection = connection
    }

    deinit { sqlite3_finalize(handle) }

    /// Makes the statement ready to run again and drops its bindings, so no bound blob stays alive in the cache.
    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Makes the statement ready to run again with the same bindings, for loops that rebind every parameter.
    func rewind() {
        sqlite3_reset(handle)
    }

    // MARK: binding

    func bind(_ index: Int32, _ value: Int64) throws {
        try check(sqlite3_bind_int64(handle, index, value))
    }

    func bind(_ index: Int32, _ value: Int64?) throws {
        if let value { try bind(index, value) } else { try bindNull(index) }
    }

    func bind(_ index: Int32, _ value: Int?) throws {
        try bind(index, value.map(Int64.init))
    }

    func bind(_ index: Int32, _ value: Double) throws {
        try check(sqlite3_bind_double(handle, index, value))
    }

    func bind(_ index: Int32, _ value: String) throws {
        // With the length given, not -1: a string with an escaped NUL ("c-1\u0000") must not be cut at it, or two
        // customer ids would share one row (issue #14).
        let count = Int32(value.utf8.count)
        try value.withCString { try check(sqlite3_bind_text(handle, index, $0, count, sqliteTransient)) }
    }

    func bind(_ index: Int32, _ value: [UInt8]) throws {
        // An empty array has no base address, which SQLite would store as NULL rather than an empty blob.
        if value.isEmpty {
            try check(sqlite3_bind_zeroblob(handle, index, 0))
            return
        }
        try value.withUnsafeBytes { bytes in
            try check(sqlite3_bind_blob(handle, index, bytes.baseAddress, Int32(bytes.count), sqliteTransient))
        }
    }

    func bindNull(_ index: Int32) throws {
        try check(sqlite3_bind_null(handle, index))
    }

    // MARK: stepping

    /// Advances to the next row; `false` when the statement is done.
    func step() throws -> Bool {
        let result = sqlite3_step(handle)
        switch result {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw connection.error(result, doing: "running \(sql)")
        }
    }

    /// Runs a statement that returns no rows.
    func run() throws {
        while try step() {}
    }

    // MARK: columns of the current row

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

    func optionalInt64(_ column: Int32) -> Int64? { isNull(column) ? nil : int64(column) }

    func optionalInt(_ column: Int32) -> Int? { optionalInt64(column).map(Int.init) }

    func double(_ column: Int32) -> Double { sqlite3_column_double(handle, column) }

    func text(_ column: Int32) -> String {
        guard let bytes = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    func blob(_ column: Int32) -> [UInt8] {
        // Ask for the pointer before the length, as SQLite documents.
        guard let bytes = sqlite3_column_blob(handle, column) else { return [] }
        let count = Int(sqlite3_column_bytes(handle, column))
        return Array(UnsafeRawBufferPointer(start: bytes, count: count))
    }

    private var sql: String { sqlite3_sql(handle).map { String(cString: $0) } ?? "a statement" }

    private func check(_ result: Int32) throws {
        guard result == SQLITE_OK else { throw connection.error(result, doing: "binding a parameter of \(sql)") }
    }
}

/// `SQLITE_TRANSIENT` (a macro Swift cannot import): SQLite copies the bound bytes before the call returns.
private let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
