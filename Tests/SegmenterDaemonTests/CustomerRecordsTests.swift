import Foundation
import SegmenterCore
import Testing

@testable import SegmenterDaemon

@Suite("customer records: export and replay --customers-out")
struct CustomerRecordsTests {
    @Test("replay --customers-out writes byte for byte what export --format ndjson writes for the daemon")
    func replayCustomersMatchExport() throws {
        try withTemporaryDirectory { directory in
            let lines = SyntheticShoppers(customers: 3_000, events: 30_000, seed: 13).map { $0.jsonLine() }
            let path = directory.appendingPathComponent("events.ndjson").path
            try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: false, encoding: .utf8)
            let messages = lines.map { (key: [UInt8]?.none, value: Array($0.utf8)) }
            let data = directory.path + "/data"
            var configuration = try fakeConfiguration(dataDirectory: data, batchSize: 700)
            // More customers than the lifecycle fit takes, so that its thinning runs on both sides too.
            configuration.segmentation.refineEvery = 2_000

            let replay = Replay(options: .init(input: path, segmentation: configuration.segmentation))
            _ = try replay.run()
            var replayed = ""
            try replay.writeCustomers { replayed += $0 }

            let run = try FakePipelineRun(
                configuration: configuration, sink: FakeOutboxSink(), partitions: [messages], maxPerPoll: 300)
            try run.finish(consumed: messages.count, dataDirectory: data)
            var exported = ""
            let count = try Export.run(
                dataDirectory: data, configuration: configuration.segmentation, format: .ndjson
            ) { exported += $0 }

            #expect(count == replay.customers.count)
            #expect(replayed.split(separator: "\n").count == count)
            #expect(exported == replayed, "the same records in the same order (by customer id), byte for byte")
            let records = try exported.split(separator: "\n").map {
                try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
            }
            let stages = Set(records.compactMap { $0["lifecycle"] as? String })
            #expect(!stages.isEmpty && stages.isSubset(of: LifecycleStage.allCases.map(\.rawValue)))
            #expect(records.allSatisfy { ($0["predictions"] as? [String: Any])?["expected_revenue"] is NSNumber })
            #expect(records.allSatisfy { ($0["rfm"] as? [String: Any])?.keys.sorted() == ["f", "m", "r"] })
        }
    }
}
