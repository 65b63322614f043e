/// One row of the identity map (issue 18): `anonymousID` was tied to `knownID`; `state` is the engine's merge
/// progress (0 requested, 1 state sent, 2 state applied), `linkedAt` the event time of the tie.
public struct IdentityLinkRow: Sendable, Equatable {
    public var anonymousID: String
    public var knownID: String
    public var state: Int
    public var linkedAt: Int64

    public init(anonymousID: String, knownID: String, state: Int, linkedAt: Int64) {
        self.anonymousID = anonymousID
        self.knownID = knownID
        self.state = state
        self.linkedAt = linkedAt
    }
}

/// The identity map's rows. The daemon holds the whole map in memory (it is bounded, see `IdentityMap`): it loads it
/// once and writes each batch's links in the batch's transaction.
extension StateStore {
    func writeIdentityLinks(_ links: [IdentityLinkRow], evicted: [String]) throws {
        try connection.runForEach("DELETE FROM identity_links WHERE anonymous_id = ?", evicted) { delete, id in
            try delete.bind(1, id)
        }
        try connection.runForEach(
            """
            INSERT INTO identity_links (anonymous_id, known_id, state, linked_at) VALUES (?, ?, ?, ?)
            ON CONFLICT(anonymous_id) DO UPDATE SET known_id = excluded.known_id, state = excluded.state,
                linked_at = excluded.linked_at
            """,
            links
        ) { upsert, link in
            try upsert.bind(1, link.anonymousID)
            try upsert.bind(2, link.knownID)
            try upsert.bind(3, Int64(link.state))
            try upsert.bind(4, link.linkedAt)
        }
    }

    /// Every link, for the daemon's in-memory map.
    public func identityLinks() throws -> [IdentityLinkRow] {
        try IdentityLinkRow.all(connection)
    }
}

extension StoreReader {
    /// The link of `anonymousID`, if any.
    public func identityLink(anonymousID: String) throws -> IdentityLinkRow? {
        try linkRows("SELECT anonymous_id, known_id, state, linked_at FROM identity_links WHERE anonymous_id = ?",
                     anonymousID).first
    }

    /// The anonymous ids merged into `knownID` (state sent or applied), in byte order.
    public func mergedIDs(into knownID: String) throws -> [String] {
        try linkRows(
            """
            SELECT anonymous_id, known_id, state, linked_at FROM identity_links
            WHERE known_id = ? AND state > 0 ORDER BY anonymous_id
            """, knownID
        ).map(\.anonymousID)
    }
}

extension StoreReader {
    fileprivate func linkRows(_ sql: String, _ id: String) throws -> [IdentityLinkRow] {
        try connection.withStatement(sql) { select in
            try select.bind(1, id)
            return try IdentityLinkRow.rows(select)
        }
    }
}

extension IdentityLinkRow {
    static func all(_ connection: SQLiteConnection) throws -> [IdentityLinkRow] {
        try connection.withStatement("SELECT anonymous_id, known_id, state, linked_at FROM identity_links") {
            try rows($0)
        }
    }

    static func rows(_ select: SQLiteStatement) throws -> [IdentityLinkRow] {
        var rows: [IdentityLinkRow] = []
        while try select.step() {
            rows.append(IdentityLinkRow(
                anonymousID: select.text(0), knownID: select.text(1), state: Int(select.int64(2)),
                linkedAt: select.int64(3)))
        }
        return rows
    }
}
