import Foundation
import Testing

@testable import SegmenterStore

/// Issue #14: SQLite faults end in an error that names the file and what to do, and never in half a batch.
@Suite("store faults")
struct StoreFaultTests {
    func bigBatch(_ count: Int, offset: Int64) -> StoreBatch {
        var batch = StoreBatch()
        batch.customers = (0..<count).map { i in
            var customer = sampleCustomer("c-\(i)")
            customer.state = [UInt8](repeating: UInt8(i % 251), count: 2_000)
            return customer
        }
        batch.outbox = (0..<count).map { sampleOutbox("c-\($0):1", customer: "c-\($0)") }
        batch.offsets = [TopicPartitionKey(topic: "events", partition: 0): offset]
        return batch
    }

    @Test("disk full (max_page_count): diskFull naming the file and what to do, nothing of the batch, then it resumes")
    func diskFull() throws {
        try withTemporaryDirectory { directory in
            let store = try StateStore(path: databasePath(in: directory))
            var first = StoreBatch()
            first.customers = [sampleCustomer("alice")]
            first.offsets = [TopicPartitionKey(topic: "events", partition: 0): 1]
            try store.commit(first)
            let pages = try #require(try store.connection.pragma("page_count").flatMap(Int.init))
            try store.connection.exec("PRAGMA max_page_count = \(pages + 4)")

            let error = try #require(throws: StoreError.self) { try store.commit(bigBatch(2_000, offset: 2_001)) }
            #expect(error.code == .diskFull)
            #expect(error.message.contains(store.path))
            #expect(error.message.contains("Free disk space"))
            #expect(try store.customerCount() == 1, "no customer of the failed batch")
            #expect(try store.outboxCount() == 0, "no outbox row of the failed batch")
            #expect(try store.offsets() == first.offsets, "the offsets stay where the last good batch left them")

            try store.connection.exec("PRAGMA max_page_count = 1073741823")
            try store.commit(bigBatch(2_000, offset: 2_001))
            #expect(try store.customerCount() == 2_001)
            #expect(try store.offsets()[TopicPartitionKey(topic: "events", partition: 0)] == 2_001)
        }
    }

    @Test("customer ids that differ only after a NUL character are two customers, stored and read back whole")
    func nulInsideText() throws {
        try withTemporaryDirectory { directory in
            let store = try StateStore(path: databasePath(in: directory))
            var batch = StoreBatch()
            batch.customers = [sampleCustomer("c-esc"), sampleCustomer("c-esc\u{0}"), sampleCustomer("c-esc\u{0}x")]
            try store.commit(batch)
            #expect(try store.customerCount() == 3)
            #expect(try store.customer("c-esc\u{0}x")?.customerID == "c-esc\u{0}x")
            let ids = try store.customers(afterID: nil, limit: 10).map(\.customerID)
            #expect(ids == ["c-esc", "c-esc\u{0}", "c-esc\u{0}x"])
        }
    }

    @Test("a file that is not a database is refused with corrupt, naming the file and what to do")
    func corruptFile() throws {
        try withTemporaryDirectory { directory in
            let path = databasePath(in: directory)
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data((0..<16_384).map { UInt8(truncatingIfNeeded: $0 &* 31) }).write(to: URL(fileURLWithPath: path))
            let error = try #require(throws: StoreError.self) { try StateStore(path: path) }
            #expect(error.code == .corrupt)
            #expect(error.message.contains(path))
            #expect(error.message.contains("restore it or point --data-dir elsewhere"))
            let read = try #require(throws: StoreError.self) { try StoreReader(path: path) }
            #expect(read.code == .corrupt)
        }
    }

    @Test("a database whose pages were overwritten fails with corrupt on use, naming the file")
    func damagedPages() throws {
        try withTemporaryDirectory { directory in
            let path = databasePath(in: directory)
            do {
                let store = try StateStore(path: path)
                try store.commit(bigBatch(500, offset: 500))
                try store.checkpoint()
            }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            let size = try handle.seekToEnd()
            for page in stride(from: UInt64(4_096), to: size, by: 4_096) {
                try handle.seek(toOffset: page)
                try handle.write(contentsOf: [UInt8](repeating: 0xA5, count: 64))
            }
            try handle.close()
            let error = try #require(throws: StoreError.self) {
                let store = try StateStore(path: path)
                _ = try store.customers(afterID: nil, limit: 1_000)
                try store.commit(bigBatch(10, offset: 510))
            }
            #expect(error.code == .corrupt)
            #expect(error.message.contains(path))
        }
    }
}
