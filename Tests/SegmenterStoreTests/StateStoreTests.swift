import Foundation
import Testing
@testable import SegmenterStore

@Suite("StateStore")
struct StateStoreTests {
    @Test("customers, outbox, transitions, model, snapshot, offsets and metadata round trip through commit")
    func roundTrip() throws {
        try withTemporaryDirectory { directory in
            let store = try StateStore(path: databasePath(in: directory))
            var batch = StoreBatch()
            let alice = sampleCustomer("alice", partition: 7, segment: 2, eventCount: 3, timerDueAt: 99)
            let bob = StoredCustomer(
                customerID: "bob", partition: 1, state: [], segmentID: nil, segmentSince: nil, transitionSeq: 0,
                eventCount: 1, lastEventAt: 42, timerDueAt: nil
            )
            batch.customers = [alice, bob]
            batch.outbox = [sampleOutbox("alice:1", customer: "alice")]
            let transition = Transition(
                customerID: "alice", seq: 1, fromSegment: nil, toSegment: 2, at: 10, cause: "event"
            )
            batch.transitions = [transition]
            batch.model = StoredModel(version: 3, savedAt: 11, blob: [9, 8, 7])
            batch.modelSnapshot = StoredModel(version: 3, savedAt: 11, blob: [9, 8, 7])
            batch.offsets = [TopicPartitionKey(topic: "events", partition: 7): 1234]
            batch.metadata = ["feature_spec": "abc123"]
            try store.commit(batch)

            #expect(try store.customer("alice") == alice)
            #expect(try store.customer("bob") == bob)
            #expect(try store.customer("carol") == nil)
            #expect(try store.customers(ids: ["bob", "nobody", "alice"]) == [bob, alice])
            #expect(try store.customerCount() == 2)
            let outbox = try store.pendingOutbox(limit: 10)
            #expect(outbox.map(\.message) == batch.outbox)
            #expect(try store.model() == batch.model)
            #expect(try store.snapshot(version: 3) == [9, 8, 7])
            #expect(try store.offsets() == batch.offsets)
            #expect(try store.metadata("feature_spec") == "abc123")
            #expect(try StoreReader(path: store.path).transitions(customerID: "alice", limit: 5) == [transition])

            batch.removeAll()
            #expect(batch.isEmpty)
            var moved = alice
            moved.segmentID = 4
            moved.eventCount = 4
            batch.customers = [moved]
            batch.offsets = [TopicPartitionKey(topic: "events", partition: 7): 1300]
            try store.commit(batch)
            #expect(try store.customer("alice") == moved)
            #expect(try store.offsets() == [TopicPartitionKey(topic: "events", partition: 7): 1300])
        }
    }

    @Test("a dropped partition loses its customers, their transitions and its offset; the others keep theirs")
    func droppedPartitions() throws {
        try withTemporaryDirectory { directory in
            let store = try StateStore(path: databasePath(in: directory))
            var batch = StoreBatch()
            batch.customers = [
                sampleCustomer("a", partition: 1, segment: 2), sampleCustomer("b", partition: 1, segment: 3),
                sampleCustomer("c", partition: 2, segment: 2),
            ]
            batch.transitions = ["a", "b", "c"].map {
                Transition(customerID: $0, seq: 1, fromSegment: nil, toSegment: 2, at: 10, cause: "event")
            }
            let one = TopicPartitionKey(topic: "events", partition: 1)
            let two = TopicPartitionKey(topic: "events", partition: 2)
            batch.offsets = [one: 50, two: 70, TopicPartitionKey(topic: "other", partition: 1): 5]
            try store.commit(batch)

            var drop = StoreBatch()
            drop.droppedPartitions = [one]
            #expect(!drop.isEmpty)
            try store.commit(drop)
            #expect(try store.customers(ids: ["a", "b", "c"]).map(\.customerID) == ["c"])
            let reader = try StoreReader(path: store.path)
            #expect(try reader.transitions(customerID: "a", limit: 5).isEmpty)
            #expect(try reader.transitions(customerID: "c", limit: 5).count == 1)
            #expect(try store.offsets() == [two: 70, TopicPartitionKey(topic: "other", partition: 1): 5])
        }
    }

    @Test("a batch that fails on a constraint half-way leaves nothing of itself, and the store stays usable")
    func failingBatchRollsBack() throws {
        try withTemporaryDirectory { directory in
            let store = try StateStore(path: databasePath(in: directory))
            var first = StoreBatch()
            first.customers = [sampleCustomer("alice")]
            first.transitions = [
                Transition(customerID: "alice", seq: 1, fromSegment: nil, toSegment: 1, at: 1, cause: "event")
            ]
            first.offsets = [TopicPartitionKey(topic: "events", partition: 0): 10]
            try store.commit(first)

            var failing = StoreBatch()
            failing.customers = [sampleCustomer("bob"), sampleCustomer("alice", eventCount: 99)]
            failing.outbox = [sampleOutbox("bob:1", customer: "bob")]
            // The repeated (alice, 1) breaks the primary key after customers and outbox were written.
            failing.transitions = [
                Transition(customerID: "bob", seq: 1, fromSegment: nil, toSegment: 1, at: 2, cause: "event"),
                Transition(customerID: "alice", seq: 1, fromSegment: nil, toSegment: 1, at: 2, cause: "event"),
            ]
            failing.offsets = [TopicPartitionKey(topic: "events", partition: 0): 20]
            let error = try #require(throws: StoreError.self) { try store.commit(failing) }
            #expect(error.code == .constraintViolation)
            #expect(error.message.contains(store.path))

            #expect(try store.customer("bob") == nil)
            #expect(try store.customer("alice") == sampleCustomer("alice"))
            #expect(try store.outboxCount() == 0)
            #expect(try store.offsets() == first.offsets)
            #expect(try StoreReader(path: store.path).transitions(customerID: "bob", limit: 5).isEmpty)

            var next = StoreBatch()
            next.customers = [sampleCustomer("bob")]
            try store.commit(next)
            #expect(try store.customer("bob") == sampleCustomer("bob"))
        }
    }

    @Test("a failure injected just before COMMIT rolls back every part of the batch")
    func injectedFailureRollsBack() throws {
        struct Injected: Error {}
        try withTemporaryDirectory { directory in
            let store = try StateStore(path: databasePath(in: directory))
            var batch = StoreBatch()
            batch.customers = [sampleCustomer("alice")]
            batch.outbox = [sampleOutbox("alice:1", customer: "alice")]
            batch.model = StoredModel(version: 1, savedAt: 1, blob: [1])
            batch.modelSnapshot = StoredModel(version: 1, savedAt: 1, blob: [1])
            batch.offsets = [TopicPartitionKey(topic: "events", partition: 0): 5]
            batch.metadata = ["feature_spec": "x"]
            store.beforeCommit = { throw Injected() }
            #expect(throws: Injected.self) { try store.commit(batch) }

            #expect(try store.customerCount() == 0)
            #expect(try store.outboxCount() == 0)
            #expect(try store.model() == nil)
            #expect(try store.snapshots().isEmpty)
            #expect(try store.offsets().isEmpty)
            #expect(try store.metadata("feature_spec") == nil)

            store.beforeCommit = nil
            try store.commit(batch)
            #expect(try store.customerCount() == 1)
        }
    }

    @Test("an outbox message whose event_id is already there is ignored, keeping one row")
    func outboxIgnoresRepeatedEventID() throws {
        try withTemporaryDirectory { directory in
            let store = try StateStore(path: databasePath(in: directory))
            var batch = StoreBatch()
            batch.outbox = [sampleOutbox("c-1:1", createdAt: 1), sampleOutbox("c-1:1", createdAt: 2)]
            try store.commit(batch)
            batch.outbox = [sampleOutbox("c-1:1", createdAt: 3)]
            try store.commit(batch)
            let rows = try store.pendingOutbox(limit: 10)
            #expect(rows.count == 1)
            #expect(rows.first?.message.createdAt == 1)
        }
    }

    @Test("commit returns each outbox message's row id, nil for one ignored as a repeat, as the store has them")
    func commitReturnsOutboxIDs() throws {
        try withTemporaryDirectory { directory in
            let store = try StateStore(path: databasePath(in: directory))
            var batch = StoreBatch()
            batch.outbox = [sampleOutbox("a:1"), sampleOutbox("b:1"), sampleOutbox("a:1"), sampleOutbox("c:1")]
            let first = try store.commit(batch)
            #expect(first.count == 4)
            #expect(first[2] == nil, "the repeated event id was not inserted")
            let rows = try store.pendingOutbox(limit: 10)
            #expect(first.compactMap { $0 } == rows.map(\.id))
            #expect(rows.map(\.message.eventID) == ["a:1", "b:1", "c:1"])
            batch.outbox = [sampleOutbox("c:1"), sampleOutbox("d:1")]
            let second = try store.commit(batch)
            #expect(second[0] == nil)
            let last = try store.pendingOutbox(limit: 10).last?.id
            #expect(second[1] == last)
            #expect((second[1] ?? 0) > (first[3] ?? .max))
        }
    }

    @Test("customers(ids:) finds exactly the stored ones among more ids than one query takes, in the order asked")
    func customersByManyIDs() throws {
        try withTemporaryDirectory { directory in
            let store = try StateStore(path: databasePath(in: directory))
            var batch = StoreBatch()
            batch.customers = (0..<700).filter { $0 % 3 != 0 }.map { sampleCustomer("c-\($0)") }
            try store.commit(batch)
            let asked = (0..<700).reversed().map { "c-\($0)" }
            let found = try store.customers(ids: asked)
            #expect(found.map(\.customerID) == asked.filter { Int($0.dropFirst(2))! % 3 != 0 })
            #expect(found.first == sampleCustomer("c-698"))
            #expect(try store.customers(ids: []).isEmpty)
        }
    }

    @Test("reads see the last committed batch, not one in progress, and the batch as soon as it committed")
    func readsSeeCommittedBatches() throws {
        try withTemporaryDirectory { directory in
            let store = try StateStore(path: databasePath(in: directory))
            var batch = StoreBatch()
            batch.customers = [sampleCustomer("alice", eventCount: 1)]
            try store.commit(batch)
            batch.customers = [sampleCustomer("alice", eventCount: 2), sampleCustomer("bob")]
            batch.offsets = [TopicPartitionKey(topic: "events", partition: 0): 9]
            var seenDuring: [StoredCustomer?] = []
            store.beforeCommit = {
                seenDuring = [try store.customer("alice"), try store.customer("bob")]
                #expect(try store.offsets().isEmpty)
            }
            try store.commit(batch)
            store.beforeCommit = nil
            #expect(seenDuring == [sampleCustomer("alice", eventCount: 1), nil])
            #expect(try store.customers(ids: ["alice", "bob"]) == batch.customers)
            #expect(try store.offsets() == batch.offsets)
        }
    }

    @Test("each customer keeps its last transitionHistory transitions, whatever batches they came in")
    func transitionHistoryIsBounded() throws {
        try withTemporaryDirectory { directory in
            let store = try StateStore(path: databasePath(in: directory), options: StoreOptions(transitionHistory: 3))
            func transition(_ customer: String, _ seq: Int64) -> Transition {
                Transition(customerID: customer, seq: seq, fromSegment: nil, toSegment: 1, at: seq, cause: "event")
            }
            var batch = StoreBatch()
            batch.transitions = (1...5).map { transition("a", $0) } + [transition("b", 1)]
            try store.commit(batch)
            batch.transitions = [transition("a", 6), transition("b", 2)]
            try store.commit(batch)
            let reader = try StoreReader(path: store.path)
            #expect(try reader.transitions(customerID: "a", limit: 10).map(\.seq) == [6, 5, 4])
            #expect(try reader.transitions(customerID: "b", limit: 10).map(\.seq) == [2, 1])
        }
    }

    @Test("after many outbox rows came and went, a checkpoint gives their pages back and the file shrinks")
    func checkpointReturnsFreePages() throws {
        try withTemporaryDirectory { directory in
            let store = try StateStore(path: databasePath(in: directory))
            var batch = StoreBatch()
            batch.outbox = (0..<2_000).map { i in
                OutboxMessage(eventID: "c\(i):1", customerID: "c\(i)", partition: 0, topic: "segment-changes",
                              key: nil, payload: Array(repeating: 7, count: 1_000), createdAt: 0)
            }
            let ids = try store.commit(batch)
            try store.checkpoint()
            let full = try FileManager.default.attributesOfItem(atPath: store.path)[.size] as? Int ?? 0
            batch.outbox = []
            batch.deleteOutboxIDs = ids.compactMap { $0 }
            try store.commit(batch)
            try store.checkpoint()
            let emptied = try FileManager.default.attributesOfItem(atPath: store.path)[.size] as? Int ?? 0
            #expect(full > 2_000_000)
            #expect(emptied < full / 4, "\(emptied) bytes after deleting, \(full) before")
        }
    }

    @Test("a batch deletes exactly the given outbox rows, and ids are never reused after the outbox empties")
    func deleteOutboxRemovesExactlyThose() throws {
        try withTemporaryDirectory { directory in
            let store = try StateStore(path: databasePath(in: directory))
            var batch = StoreBatch()
            batch.outbox = (1...5).map { sampleOutbox("c-1:\($0)") }
            try store.commit(batch)
            let ids = try store.pendingOutbox(limit: 10).map(\.id)
            #expect(ids.count == 5)
            func delete(_ rows: [Int64]) throws {
                var deletion = StoreBatch()
                deletion.deleteOutboxIDs = rows
                try store.commit(deletion)
            }
            try delete([ids[1], ids[3], 9_999])
            #expect(try store.pendingOutbox(limit: 10).map(\.id) == [ids[0], ids[2], ids[4]])
            #expect(try store.pendingOutbox(limit: 10, afterID: ids[0]).map(\.id) == [ids[2], ids[4]])
            #expect(try store.pendingOutbox(limit: 1, afterID: ids[0]).map(\.id) == [ids[2]])

            try delete([ids[0], ids[2], ids[4]])
            #expect(try store.outboxCount() == 0)
            batch.outbox = [sampleOutbox("c-1:6")]
            try store.commit(batch)
            #expect(try store.pendingOutbox(limit: 10, afterID: ids[4]).map(\.message.eventID) == ["c-1:6"])
        }
    }

    @Test("a dead letter keeps its topic, absent key and headers; delivered rows are deleted with the next batch")
    func deadLetterRoundTripAndDeletionInBatch() throws {
        try withTemporaryDirectory { directory in
            let store = try StateStore(path: databasePath(in: directory))
            var batch = StoreBatch()
            let headers: [(String, [UInt8])] = [("segmenter.error", Array("bad".utf8)), ("segmenter.source", [])]
            batch.outbox = [
                OutboxMessage(eventID: "dlq:events/0/7", customerID: "", partition: 0, topic: "segmenter-dlq",
                              key: nil, payload: [1, 2, 3], headers: headers, createdAt: 9),
                sampleOutbox("c-1:1"),
            ]
            try store.commit(batch)
            let rows = try store.pendingOutbox(limit: 10)
            #expect(rows.map(\.message) == batch.outbox)
            #expect(rows[0].message.key == nil)
            #expect(rows[0].message.headers.map(\.0) == ["segmenter.error", "segmenter.source"])

            batch.removeAll()
            batch.deleteOutboxIDs = [rows[0].id]
            batch.offsets[TopicPartitionKey(topic: "events", partition: 0)] = 8
            try store.commit(batch)
            #expect(try store.pendingOutbox(limit: 10).map(\.message.eventID) == ["c-1:1"])
        }
    }

    @Test("customersDue pages through exactly the customers due by the time, earliest first, ties by id")
    func customersDueInTimeOrder() throws {
        try withTemporaryDirectory { directory in
            let store = try StateStore(path: databasePath(in: directory))
            var batch = StoreBatch()
            batch.customers = [
                sampleCustomer("a", timerDueAt: 300),
                sampleCustomer("b", timerDueAt: 100),
                sampleCustomer("c", timerDueAt: nil),
                sampleCustomer("d", timerDueAt: 500),
                sampleCustomer("e", timerDueAt: 200),
                sampleCustomer("f", timerDueAt: 100),
            ]
            try store.commit(batch)
            #expect(try store.customersDue(through: 499, after: nil, limit: 100).map(\.customerID)
                == ["b", "f", "e", "a"])
            let page = try store.customersDue(through: 499, after: nil, limit: 2)
            #expect(page.map(\.customerID) == ["b", "f"])
            let next = try store.customersDue(through: 499, after: (page[1].timerDueAt!, page[1].customerID), limit: 2)
            #expect(next.map(\.customerID) == ["e", "a"])
            #expect(try store.customersDue(through: 99, after: nil, limit: 100).isEmpty)
        }
    }

    @Test("customers(afterID:limit:) and customerIDs page through every customer in customer_id order")
    func pagesInIDOrder() throws {
        try withTemporaryDirectory { directory in
            let store = try StateStore(path: databasePath(in: directory))
            var batch = StoreBatch()
            batch.customers = ["d", "b", "e", "a", "c"].map { sampleCustomer($0) }
            try store.commit(batch)
            #expect(try store.customers(afterID: nil, limit: 2).map(\.customerID) == ["a", "b"])
            #expect(try store.customers(afterID: "b", limit: 2).map(\.customerID) == ["c", "d"])
            #expect(try store.customers(afterID: "d", limit: 2).map(\.customerID) == ["e"])
            #expect(throws: StoreError.self) { try store.customers(afterID: nil, limit: 0) }
            for after in [nil, "a", "b", "c", "d", "e"] as [String?] {
                #expect(try store.customerIDs(afterID: after, limit: 2)
                    == store.customers(afterID: after, limit: 2).map(\.customerID), "ids alone page the same way")
            }
        }
    }

    @Test("snapshots are listed oldest first with their sizes and fetched by version")
    func snapshotsListAndFetch() throws {
        try withTemporaryDirectory { directory in
            let store = try StateStore(path: databasePath(in: directory))
            var batch = StoreBatch()
            for (version, size) in [(2, 10), (1, 3), (5, 0)] {
                batch.modelSnapshot = StoredModel(
                    version: Int64(version), savedAt: Int64(version * 100), blob: [UInt8](repeating: 7, count: size)
                )
                try store.commit(batch)
            }
            #expect(try store.snapshots() == [
                ModelSnapshotInfo(version: 1, createdAt: 100, size: 3),
                ModelSnapshotInfo(version: 2, createdAt: 200, size: 10),
                ModelSnapshotInfo(version: 5, createdAt: 500, size: 0),
            ])
            #expect(try store.snapshot(version: 2) == [UInt8](repeating: 7, count: 10))
            #expect(try store.snapshot(version: 5) == [])
            #expect(try store.snapshot(version: 3) == nil)
        }
    }

    @Test("the writer runs in WAL mode with synchronous NORMAL by default and FULL when asked")
    func pragmasAreSet() throws {
        try withTemporaryDirectory { directory in
            let normal = try StateStore(path: databasePath(in: directory))
            #expect(try normal.connection.pragma("journal_mode") == "wal")
            #expect(try normal.connection.pragma("synchronous") == "1")
            let full = try StateStore(
                path: directory.appendingPathComponent("full/db.sqlite").path,
                options: StoreOptions(synchronous: .full)
            )
            #expect(try full.connection.pragma("journal_mode") == "wal")
            #expect(try full.connection.pragma("synchronous") == "2")
        }
    }

    @Test("a committed batch survives a crash: the files as the crashed process left them hold it")
    func committedBatchSurvivesCrash() throws {
        try withTemporaryDirectory { directory in
            let path = databasePath(in: directory)
            let store = try StateStore(path: path)
            var batch = StoreBatch()
            batch.customers = [sampleCustomer("alice", eventCount: 7)]
            batch.offsets = [TopicPartitionKey(topic: "events", partition: 0): 77]
            try store.commit(batch)

            // Copy the database and its write-ahead log while the writer is still open: this is what the disk
            // holds after `kill -9` (the process never gets to checkpoint or close).
            let crashed = directory.appendingPathComponent("crashed")
            let mainOnly = directory.appendingPathComponent("main-only")
            let files = FileManager.default
            for target in [crashed, mainOnly] {
                try files.createDirectory(at: target, withIntermediateDirectories: true)
            }
            try files.copyItem(atPath: path, toPath: crashed.appendingPathComponent("db.sqlite").path)
            try files.copyItem(atPath: path + "-wal", toPath: crashed.appendingPathComponent("db.sqlite-wal").path)
            try files.copyItem(atPath: path, toPath: mainOnly.appendingPathComponent("db.sqlite").path)

            // The batch lives only in the log so far, so this test really exercises recovery from it.
            let withoutLog = try StateStore(path: mainOnly.appendingPathComponent("db.sqlite").path)
            #expect(try withoutLog.customer("alice") == nil)

            let recovered = try StateStore(path: crashed.appendingPathComponent("db.sqlite").path)
            #expect(try recovered.customer("alice") == sampleCustomer("alice", eventCount: 7))
            #expect(try recovered.offsets() == batch.offsets)
        }
    }

    @Test("a store whose directory cannot be created fails with cannotOpen naming the path")
    func unwritableDirectory() throws {
        try withTemporaryDirectory { directory in
            let blocker = directory.appendingPathComponent("file")
            try Data().write(to: blocker)
            let path = blocker.appendingPathComponent("db.sqlite").path
            let error = try #require(throws: StoreError.self) { try StateStore(path: path) }
            #expect(error.code == .cannotOpen)
            #expect(error.message.contains(path))
        }
    }
}
