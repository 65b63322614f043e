import Testing
import Foundation
@testable import SegmenterStore

@Suite("migrations")
struct MigrationTests {
    @Test("opening a new file records every migration, and re-opening it runs no migration again")
    func recordedOnceAndNotRerun() throws {
        try withTemporaryDirectory { directory in
            let path = databasePath(in: directory)
            let firstAppliedAt: Int64
            do {
                let store = try StateStore(path: path)
                firstAppliedAt = try store.connection.withStatement(
                    "SELECT applied_at FROM migrations WHERE name = 'v1_initial'"
                ) { try $0.step() ? $0.int64(0) : -1 }
                #expect(try store.metadata(Migration.schemaVersionKey) == Migration.all.last?.name)
            }
            let reopened = try SQLiteConnection(path: path, readOnly: false)
            #expect(try Migration.apply(to: reopened).isEmpty)
            let rows = try reopened.withStatement("SELECT name, applied_at FROM migrations") { select in
                var rows: [(String, Int64)] = []
                while try select.step() { rows.append((select.text(0), select.int64(1))) }
                return rows
            }
            #expect(rows.map(\.0) == Migration.all.map(\.name))
            #expect(rows.map(\.1) == Migration.all.map { _ in firstAppliedAt })
        }
    }

    @Test("a later migration runs once, after the ones already recorded")
    func appendedMigrationRunsOnce() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("plain.sqlite").path
            let connection = try SQLiteConnection(path: path, readOnly: false)
            let v2 = Migration(name: "v2_test", sql: "CREATE TABLE extra (x INTEGER)")
            #expect(try Migration.apply(Migration.all, to: connection) == Migration.all.map(\.name))
            #expect(try Migration.apply(Migration.all + [v2], to: connection) == ["v2_test"])
            #expect(try Migration.apply(Migration.all + [v2], to: connection).isEmpty)
        }
    }

    @Test("a file written before audiences gains the audiences column, its customers read back with none")
    func audiencesColumnAddedToAnOldFile() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("old.sqlite").path
            do {
                let connection = try SQLiteConnection(path: path, readOnly: false)
                #expect(try Migration.apply(Array(Migration.all.prefix(1)), to: connection) == ["v1_initial"])
                try connection.exec("""
                    INSERT INTO customers (customer_id, partition, state, transition_seq, event_count, last_event_at)
                    VALUES ('c-1', 0, x'01', 0, 1, 5)
                    """)
            }
            let store = try StateStore(path: path)
            #expect(try store.customer("c-1")?.audiences == nil)
            var customer = try #require(try store.customer("c-1"))
            customer.audiences = [1, 2, 3]
            var batch = StoreBatch()
            batch.customers = [customer]
            try store.commit(batch)
            #expect(try store.customer("c-1")?.audiences == [1, 2, 3])
        }
    }

    @Test("a file of the first schema keeps its customers and loses only the unused partition index")
    func partitionIndexDropped() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("first-schema.sqlite").path
            do {
                let connection = try SQLiteConnection(path: path, readOnly: false)
                _ = try Migration.apply(Array(Migration.all.prefix(1)), to: connection)
                try connection.exec("""
                    INSERT INTO customers (customer_id, partition, state, transition_seq, event_count, last_event_at)
                    VALUES ('alice', 3, x'01', 0, 1, 5)
                    """)
            }
            let store = try StateStore(path: path)
            #expect(try store.customer("alice")?.partition == 3)
            let indexes = try store.connection.withStatement(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'customers'"
            ) { select in
                var names: [String] = []
                while try select.step() { names.append(select.text(0)) }
                return names
            }
            #expect(!indexes.contains("customers_by_partition"))
            #expect(indexes.contains("customers_by_timer_due_at"))
        }
    }

    @Test("a database with a migration this build does not know is refused with incompatibleSchema")
    func unknownMigrationRefused() throws {
        try withTemporaryDirectory { directory in
            let path = databasePath(in: directory)
            let v2 = Migration(name: "v2_from_the_future", sql: "CREATE TABLE extra (x INTEGER)")
            do {
                _ = try StateStore(path: path)
                let connection = try SQLiteConnection(path: path, readOnly: false)
                _ = try Migration.apply(Migration.all + [v2], to: connection)
            }
            let error = try #require(throws: StoreError.self) { try StateStore(path: path) }
            #expect(error.code == .incompatibleSchema)
            #expect(error.message.contains(path))
            #expect(error.message.contains("v2_from_the_future"))
        }
    }
}
