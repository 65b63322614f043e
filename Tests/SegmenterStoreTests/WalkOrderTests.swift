import Foundation
import Testing

@testable import SegmenterStore

@Suite("walk order and sample")
struct WalkOrderTests {
    private func customer(_ id: String, ordinal: Int64, level: Int) -> StoredCustomer {
        var c = sampleCustomer(id)
        c.ordinal = ordinal
        c.sampleLevel = level
        return c
    }

    @Test("the walk pages through (ordinal, id) in order, ties broken by id, without skipping or repeating")
    func walkPages() throws {
        try withTemporaryDirectory { directory in
            let store = try StateStore(path: databasePath(in: directory))
            var batch = StoreBatch()
            batch.customers = [
                customer("d", ordinal: 2, level: 0), customer("b", ordinal: 1, level: 0),
                customer("a", ordinal: 3, level: 0), customer("c", ordinal: 2, level: 0),
                customer("e", ordinal: 9, level: 0),
            ]
            try store.commit(batch)
            var walked: [String] = []
            var cursor: (ordinal: Int64, id: String)?
            while true {
                let page = try store.customerWalk(after: cursor, limit: 2)
                walked += page.map(\.id)
                guard page.count == 2, let last = page.last else { break }
                cursor = last
            }
            #expect(walked == ["b", "c", "d", "a", "e"])
        }
    }

    @Test("an update leaves a customer's ordinal and sample level as first written")
    func updateKeepsWalkPlace() throws {
        try withTemporaryDirectory { directory in
            let store = try StateStore(path: databasePath(in: directory))
            var batch = StoreBatch()
            batch.customers = [customer("a", ordinal: 5, level: 2)]
            try store.commit(batch)
            batch.customers = [customer("a", ordinal: 99, level: 0)]
            batch.customers[0].eventCount = 7
            try store.commit(batch)
            let stored = try #require(try store.customer("a"))
            #expect(stored.eventCount == 7 && stored.ordinal == 5 && stored.sampleLevel == 2)
        }
    }

    @Test("the sample query returns exactly the customers at or above a level")
    func sampleByLevel() throws {
        try withTemporaryDirectory { directory in
            let store = try StateStore(path: databasePath(in: directory))
            var batch = StoreBatch()
            batch.customers = (0..<40).map { customer("c-\($0)", ordinal: Int64($0), level: $0 % 4) }
            try store.commit(batch)
            for level in 0..<5 {
                let ids = Set(try store.customers(sampleLevelAtLeast: level).map(\.customerID))
                #expect(ids == Set((0..<40).filter { $0 % 4 >= level }.map { "c-\($0)" }), "level \(level)")
            }
        }
    }

    @Test("a file written before walk order gets ordinals in insertion order and its sample levels back-filled")
    func oldFileMigrates() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("old.sqlite").path
            do {
                let connection = try SQLiteConnection(path: path, readOnly: false)
                _ = try Migration.apply(Array(Migration.all.prefix(4)), to: connection)
                for id in ["zed", "amy", "bob"] {
                    try connection.exec("""
                        INSERT INTO customers (customer_id, partition, state, transition_seq, event_count, last_event_at)
                        VALUES ('\(id)', 0, x'01', 0, 1, 5)
                        """)
                }
            }
            let store = try StateStore(path: path)
            #expect(try store.customerWalk(after: nil, limit: 10).map(\.id) == ["zed", "amy", "bob"])
            #expect(try store.maxOrdinal() == 3)
            #expect(try store.customers(sampleLevelAtLeast: 0).isEmpty, "no level before the back-fill")
            #expect(try store.backfillSampleLevels { $0.count } == 3)
            #expect(try store.backfillSampleLevels { _ in 0 } == 0, "a second back-fill finds nothing to do")
            #expect(try store.customers(sampleLevelAtLeast: 3).map(\.customerID).sorted() == ["amy", "bob", "zed"])
        }
    }
}
