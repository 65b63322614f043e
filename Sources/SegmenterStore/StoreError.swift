/// The one error type of the store: a `code` to branch on and a `message` a user can act on, always naming the
/// database file it concerns.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public enum Code: String, Sendable, Hashable {
        /// A read-only open found no database file: the daemon has not created it yet.
        case databaseMissing
        /// The file or its directory could not be opened or created.
        case cannotOpen
        /// The database was written by an incompatible (newer or unknown) schema, or is missing migrations.
        case incompatibleSchema
        /// Another connection held a lock for longer than the busy timeout.
        case busy
        /// A constraint (primary key, unique, not null, check) rejected a row.
        case constraintViolation
        /// The disk or the file system is full.
        case diskFull
        /// The file is not a database or is damaged.
        case corrupt
        /// A write was attempted where the file, its directory or the connection is read-only.
        case readOnly
        /// An operating-system input/output error.
        case ioFailure
        /// An argument the caller passed is invalid.
        case invalidArgument
        /// Any other SQLite failure.
        case sqlite
    }

    public let code: Code
    /// A sentence saying what failed, on which file, and what to do about it.
    public let message: String
    /// The database file concerned.
    public let path: String
    /// SQLite's extended result code when SQLite reported the failure.
    public let sqliteResultCode: Int32?

    public init(code: Code, message: String, path: String, sqliteResultCode: Int32? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.sqliteResultCode = sqliteResultCode
    }

    public var description: String { "StoreError.\(code.rawValue): \(message)" }
}
