import Foundation
import Testing
@testable import SegmenterStore

@Suite("StoreReader")
struct StoreReaderTests {
    @Test("the reader sees committed batches while the writer is open, and never a batch in progress")
    func seesCommittedNotInProgress() throws {
        try withTemporaryDirectory { directory in
            let store = try StateStore(path: databasePath(in: directory))
            let reader = try StoreReader(path: store.path)
            var batch = StoreBatch()
            batch.customers = [sampleCustomer("alice", segment: 1)]
            try store.commit(batch)
            #expect(try reader.customer("alice") == sampleCustomer("alice", segment: 1))

            batch.customers = [sampleCustomer("bob", segment: 2), sampleCustomer("alice", segment: 2)]
            batch.offsets = [TopicPartitionKey(topic: "events", partition: 0): 9]
            var seenDuringBatch: [StoredCustomer?] = []
            var offsetsDuringBatch: [TopicPartitionKey: Int64] = [:]
            store.beforeCommit = {
                seenDuringBatch = [try reader.customer("bob"), try reader.customer("alice")]
                offsetsDuringBatch = try reader.offsets()
            }
            try store.commit(batch)
            #expect(seenDuringBatch == [nil, sampleCustomer("alice", segment: 1)])
            #expect(offsetsDuringBatch.isEmpty)
            #expect(try reader.customer("bob") == sampleCustomer("bob", segment: 2))
            #expect(try reader.segmentSizes() == [2: 2])
            #expect(try reader.offsets() == batch.offsets)
        }
    }

    @Test("opening a reader where there is no database names the path and says the daemon has not created it")
    func missingDatabase() throws {
        try withTemporaryDirectory { directory in
            let path = databasePath(in: directory)
            let error = try #require(throws: StoreError.self) { try StoreReader(path: path) }
            #expect(error.code == .databaseMissing)
            #expect(error.message.contains(path))
            #expect(error.message.contains("--data-dir"))
        }
    }

    @Test("the query side answers sizes, counts, transitions newest first, model and snapshots")
    func queries() throws {
        try withTemporaryDirectory { directory in
            let store = try StateStore(path: databasePath(in: directory))
            var batch = StoreBatch()
            batch.customers = [
                sampleCustomer("a", segment: 1), sampleCustomer("b", segment: 1), sampleCustomer("c", segment: 3),
                sampleCustomer("d"),
            ]
            batch.transitions = (1...4).map {
                Transition(customerID: "a", seq: Int64($0), fromSegment: $0 == 1 ? nil : $0 - 1, toSegment: $0,
                           at: Int64($0 * 10), cause: "event")
            }
            batch.outbox = [sampleOutbox("a:1"), sampleOutbox("a:2")]
            batch.model = StoredModel(version: 2, savedAt: 5, blob: [1, 2])
            batch.modelSnapshot = StoredModel(version: 2, savedAt: 5, blob: [1, 2])
            try store.commit(batch)

            let reader = try StoreReader(path: store.path)
            #expect(try reader.segmentSizes() == [1: 2, 3: 1])
            #expect(try reader.customerCount() == 4)
            #expect(try reader.outboxCount() == 2)
            #expect(try reader.transitions(customerID: "a", limit: 2).map(\.seq) == [4, 3])
            #expect(try reader.transitions(customerID: "a", limit: 2).first?.fromSegment == 3)
            #expect(try reader.transitions(customerID: "zzz", limit: 2).isEmpty)
            #expect(try reader.model() == batch.model)
            #expect(try reader.snapshots() == [ModelSnapshotInfo(version: 2, createdAt: 5, size: 2)])
            #expect(try reader.snapshot(version: 2) == [1, 2])
        }
    }

    @Test("forEachCustomer visits every customer once in customer_id order across pages")
    func forEachCustomerStreamsInOrder() throws {
        try withTemporaryDirectory { directory in
            let store = try StateStore(path: databasePath(in: directory))
            var batch = StoreBatch()
            let ids = (0..<25).map { "c-\(String($0, radix: 7))" }
            batch.customers = ids.shuffled().map { sampleCustomer($0) }
            try store.commit(batch)
            var seen: [String] = []
            try StoreReader(path: store.path).forEachCustomer(pageSize: 4) { seen.append($0.customerID) }
            #expect(seen == ids.sorted())
        }
    }

    @Test("a reader opens the database after the daemon closed it, and refuses a file with no schema")
    func opensAfterWriterClosed() throws {
        try withTemporaryDirectory { directory in
            let path = databasePath(in: directory)
            do {
                let store = try StateStore(path: path)
                var batch = StoreBatch()
                batch.customers = [sampleCustomer("alice")]
                try store.commit(batch)
            }
            #expect(try StoreReader(path: path).customer("alice") == sampleCustomer("alice"))

            let empty = directory.appendingPathComponent("empty.sqlite").path
            _ = try SQLiteConnection(path: empty, readOnly: false)
            let error = try #require(throws: StoreError.self) { try StoreReader(path: empty) }
            #expect(error.code == .incompatibleSchema)
            #expect(error.message.contains(empty))
        }
    }
}
