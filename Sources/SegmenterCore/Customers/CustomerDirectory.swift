/// Where a ``SegmentationEngine`` finds and keeps customer records. Replay keeps them in memory
/// (``InMemoryCustomers``); the daemon keeps a cache in front of SQLite. The engine's results depend only on what
/// these methods return, so two directories holding the same records give the same changes.
///
/// Orders are part of the contract: ``customers(after:limit:)`` and ``sample(minimumLevel:)`` follow
/// ``CustomerWalkKey`` (the order customers were first seen in, which a directory keeps by appending), and
/// ``customersDue(through:)`` returns records by (due time, customer id).
public protocol CustomerDirectory {
    /// Runs `body` on the record of `id` in place, starting from `make()` when the customer is unknown; the
    /// record is kept afterwards (changed or not).
    mutating func withRecord<R>(
        _ id: String, make: () -> CustomerRecord, _ body: (inout CustomerRecord) throws -> R
    ) throws -> R

    /// The record of `id`, or nil when the customer was never seen.
    mutating func record(_ id: String) throws -> CustomerRecord?

    /// Keeps a record the engine changed outside ``withRecord(_:make:_:)``.
    mutating func update(_ record: CustomerRecord) throws

    /// Up to `limit` customers whose walk keys follow `after` (from the first when nil), in walk-key order.
    mutating func customers(after: CustomerWalkKey?, limit: Int) throws -> [CustomerRecord]

    /// Every customer whose ``CustomerSample/level(of:)`` is at least `minimumLevel`, in walk-key order. The engine
    /// keeps the level high enough that this stays a bounded sample however many customers there are.
    mutating func sample(minimumLevel: Int) throws -> [CustomerRecord]

    /// Every customer whose ``CustomerRecord/timerDueAt`` is at or before `time`, by (due time, customer id).
    mutating func customersDue(through time: Int64) throws -> [CustomerRecord]

    /// Forgets `id` (erasure, or an id merged into another): no read or walk returns it afterwards; an event for it
    /// later starts a new record.
    mutating func remove(_ id: String) throws
}

extension String {
    /// The order of customer ids everywhere a walk over customers must be reproducible: UTF-8 bytes, as SQLite
    /// compares `TEXT` (Swift's `<` compares Unicode-normalised scalars, which differs for some inputs).
    public func precedesInByteOrder(_ other: String) -> Bool {
        let fast = utf8.withContiguousStorageIfAvailable { x in
            other.utf8.withContiguousStorageIfAvailable { y in
                for k in 0..<Swift.min(x.count, y.count) where x[k] != y[k] { return x[k] < y[k] }
                return x.count < y.count
            }
        }
        if let fast, let result = fast { return result }
        return utf8.lexicographicallyPrecedes(other.utf8)
    }
}
