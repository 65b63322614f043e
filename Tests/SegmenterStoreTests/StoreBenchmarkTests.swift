import Foundation
import SegmenterStore
import Testing

/// Throughput of the daemon's two hot store operations, printed for the README and issue notes. Runs only when
/// `SEGMENTER_BENCH=1` (numbers mean something in release builds:
/// `SEGMENTER_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter StoreBenchmark`).
@Suite("StoreBenchmark", .enabled(if: ProcessInfo.processInfo.environment["SEGMENTER_BENCH"] == "1"))
struct StoreBenchmarkTests {
    @Test("100 batches of 1,000 customer upserts, then 100,000 single-customer lookups, all rows found")
    func batchUpsertsAndLookups() throws {
        try withTemporaryDirectory { directory in
            let store = try StateStore(path: databasePath(in: directory))
            let customerCount = 20_000
            let ids = (0..<customerCount).map { "c-\($0)" }
            let state = [UInt8](repeating: 0xAB, count: 200)
            var batch = StoreBatch()
            batch.customers.reserveCapacity(1_000)

            let clock = ContinuousClock()
            let upserts = try clock.measure {
                for round in 0..<100 {
                    batch.removeAll()
                    for index in 0..<1_000 {
                        let id = ids[(round * 1_000 + index) % customerCount]
                        batch.customers.append(
                            StoredCustomer(
                                customerID: id, partition: Int32(index % 64), state: state, segmentID: index % 5,
                                segmentSince: 1, transitionSeq: 1, eventCount: Int64(round), lastEventAt: 2,
                                timerDueAt: Int64(round * 1_000 + index)
                            )
                        )
                    }
                    batch.offsets[TopicPartitionKey(topic: "events", partition: Int32(round % 64))] = Int64(round)
                    try store.commit(batch)
                }
            }
            var found = 0
            let lookups = try clock.measure {
                for index in 0..<100_000 where try store.customer(ids[(index &* 7_919) % customerCount]) != nil {
                    found += 1
                }
            }
            #expect(found == 100_000)
            #expect(try store.customerCount() == Int64(customerCount))
            print("""
                StoreBenchmark: 100 × 1,000 upserts of a 200-byte state: \(upserts) \
                (\(Int(100_000 / upserts.seconds)) upserts/s); 100,000 lookups: \(lookups) \
                (\(Int(100_000 / lookups.seconds)) lookups/s)
                """)
        }
    }
}

private extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
