import Foundation

/// Erasure (issue 18) on the writer: everything kept about a customer goes in the batch's transaction, and the
/// suppression list that keeps later events of an erased id out (`privacy.suppress_erased`).
extension StateStore {
    /// Deletes each customer's row, transitions, identity links (as anonymous or as known id) and pending outbox
    /// rows; inside `commit(_:)`, before the batch's own rows are written.
    func eraseCustomers(_ ids: [String], suppressing suppressed: [String]) throws {
        guard !ids.isEmpty || !suppressed.isEmpty else { return }
        for sql in [
            "DELETE FROM customers WHERE customer_id = ?",
            "DELETE FROM transitions WHERE customer_id = ?",
            "DELETE FROM identity_links WHERE anonymous_id = ?",
            "DELETE FROM identity_links WHERE known_id = ?",
            "DELETE FROM outbox WHERE customer_id = ?",
        ] {
            try connection.runForEach(sql, ids) { delete, id in try delete.bind(1, id) }
        }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        try connection.runForEach(
            "INSERT OR IGNORE INTO suppressed_customers (customer_id, erased_at) VALUES (?, ?)", suppressed
        ) { insert, id in
            try insert.bind(1, id)
            try insert.bind(2, now)
        }
    }

    /// Deletes each customer's row and transitions (a merged-away id: its links and published rows stay).
    func removeCustomers(_ ids: [String]) throws {
        for sql in ["DELETE FROM customers WHERE customer_id = ?", "DELETE FROM transitions WHERE customer_id = ?"] {
            try connection.runForEach(sql, ids) { delete, id in try delete.bind(1, id) }
        }
    }

    /// Every id on the suppression list (erasure requests are rare: the daemon holds them in memory).
    public func suppressedCustomers() throws -> Set<String> {
        try connection.withStatement("SELECT customer_id FROM suppressed_customers") { select in
            var ids: Set<String> = []
            while try select.step() { ids.insert(select.text(0)) }
            return ids
        }
    }
}
