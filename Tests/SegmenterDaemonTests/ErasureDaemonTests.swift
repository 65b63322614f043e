import Foundation
import SegmenterCore
import SegmenterStore
import Testing

@testable import SegmenterDaemon

/// Issue 18: erasure through the running pipeline (the path `DELETE /v1/customers/{id}` takes) and directly on a
/// stopped daemon's data directory (`segmenter customers erase`).
@Suite("erasure in the daemon")
struct ErasureDaemonTests {
    /// Native events of synthetic shoppers, split over `partitions` partitions by customer (as a keyed topic is).
    func partitioned(customers: Int, events: Int, partitions: Int, seed: UInt64)
        -> (events: [Event], partitions: [[(key: [UInt8]?, value: [UInt8])]])
    {
        let events = Array(SyntheticShoppers(customers: customers, events: events, seed: seed))
        var split = [[(key: [UInt8]?, value: [UInt8])]](repeating: [], count: partitions)
        for event in events {
            let p = Int(StableHash.fnv1a64(event.customerID) % UInt64(partitions))
            split[p].append((Array(event.customerID.utf8), Array(event.jsonLine().utf8)))
        }
        return (events, split)
    }

    /// Submits `command` to the running pipeline and waits for its answer (given once its batch committed).
    func perform(_ command: ModelCommand, on pipeline: Pipeline) throws -> String {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var answer: Result<String, Error> = .failure(SegmenterError(.timeout, "no answer"))
        pipeline.submit(command) { result in
            answer = result
            done.signal()
        }
        guard done.wait(timeout: .now() + 60) == .success else {
            throw SegmenterError(.timeout, "the pipeline did not answer the command within 60 s")
        }
        return try answer.get()
    }

    /// A customer active in the first `early` events and in the last `late`, so events keep coming for them after
    /// an erasure in between.
    func activeThroughout(_ events: [Event], early: Int, late: Int) throws -> String {
        let first = Set(events.prefix(early).map(\.customerID))
        return try #require(first.intersection(events.suffix(late).map(\.customerID)).sorted().first)
    }

    func changeLines(_ sink: FakeOutboxSink, of id: String) -> [String] {
        sink.produced.filter { $0.topic == "segment-changes" }.map { String(decoding: $0.value, as: UTF8.self) }
            .filter { $0.contains(#""customer_id":"\#(id)""#) }
    }

    @Test("erase while the daemon runs under load: one last change, the store forgets them, later events suppressed")
    func eraseUnderLoad() throws {
        try withTemporaryDirectory { directory in
            let input = partitioned(customers: 2_000, events: 60_000, partitions: 4, seed: 21)
            let victim = try activeThroughout(input.events, early: 6_000, late: 15_000)
            let data = directory.path + "/data"
            var configuration = try fakeConfiguration(dataDirectory: data, batchSize: 500)
            configuration.privacy.suppressErased = true
            let sink = FakeOutboxSink()
            let run = try FakePipelineRun(
                configuration: configuration, sink: sink, partitions: input.partitions, maxPerPoll: 200)
            #expect(try waitUntilConsumed(12_000, dataDirectories: [data]))
            let answer = try perform(.erase(customers: [victim]), on: run.pipeline)
            #expect(answer.contains("erased \(victim)"))
            try run.finish(consumed: input.events.count, dataDirectory: data)

            let lines = changeLines(sink, of: victim)
            let last = try #require(lines.last)
            #expect(last.contains(#""segment":null,"cause":"erased""#), "the erasure is the customer's last change")
            #expect(lines.filter { $0.contains(#""cause":"erased""#) }.count == 1)
            let reader = try StoreReader(path: DataDirectory.databasePath(in: data))
            #expect(try reader.customer(victim) == nil)
            #expect(try reader.transitions(customerID: victim, limit: 100).isEmpty)
            #expect(run.pipeline.status.read().eventsSuppressed > 0, "the victim's later events were dropped")
            #expect(try StateStore(path: reader.path).suppressedCustomers() == [victim])
            let sizes = try reader.segmentSizes().values.reduce(0, +)
            #expect(run.pipeline.status.read().segmentSizes.values.reduce(0, +) == sizes,
                    "the status board's segment sizes lost the erased customer too")
        }
    }

    @Test("without suppression an erased id that sends events again is a new customer, with a new chain")
    func eraseWithoutSuppression() throws {
        try withTemporaryDirectory { directory in
            let input = partitioned(customers: 1_000, events: 30_000, partitions: 2, seed: 22)
            let victim = try activeThroughout(input.events, early: 4_000, late: 8_000)
            let data = directory.path + "/data"
            let sink = FakeOutboxSink()
            let run = try FakePipelineRun(
                configuration: try fakeConfiguration(dataDirectory: data, batchSize: 300), sink: sink,
                partitions: input.partitions, maxPerPoll: 100)
            #expect(try waitUntilConsumed(6_000, dataDirectories: [data]))
            _ = try perform(.erase(customers: [victim]), on: run.pipeline)
            try run.finish(consumed: input.events.count, dataDirectory: data)
            let stored = try #require(try StoreReader(path: DataDirectory.databasePath(in: data)).customer(victim))
            let after = input.events.suffix(8_000).filter { $0.customerID == victim }.count
            #expect(stored.eventCount <= Int64(input.events.count - 6_000) && stored.eventCount >= Int64(after))
            #expect(run.pipeline.status.read().eventsSuppressed == 0)
        }
    }

    @Test("an erase of an id nobody knows is not found, unless suppression keeps it out")
    func unknownID() throws {
        try withTemporaryDirectory { directory in
            let input = partitioned(customers: 300, events: 3_000, partitions: 1, seed: 23)
            let data = directory.path + "/data"
            let run = try FakePipelineRun(
                configuration: try fakeConfiguration(dataDirectory: data, batchSize: 300), sink: FakeOutboxSink(),
                partitions: input.partitions, maxPerPoll: 100)
            #expect(try waitUntilConsumed(3_000, dataDirectories: [data]))
            #expect(throws: SegmenterError(.notFound, "no customer nobody is known: nothing is kept about them")) {
                try perform(.erase(customers: ["nobody"]), on: run.pipeline)
            }
            try run.finish(consumed: input.events.count, dataDirectory: data)
        }
    }

    @Test("segmenter customers erase on a stopped daemon: state, history and pending outbox rows go in one batch")
    func eraseOffline() throws {
        try withTemporaryDirectory { directory in
            let input = partitioned(customers: 600, events: 12_000, partitions: 2, seed: 24)
            let data = directory.path + "/data"
            let configuration = try fakeConfiguration(dataDirectory: data, batchSize: 400)
            let sink = FakeOutboxSink()
            sink.hold()
            let run = try FakePipelineRun(
                configuration: configuration, sink: sink, partitions: input.partitions, maxPerPoll: 200)
            try run.finish(consumed: input.events.count, dataDirectory: data)
            let path = DataDirectory.databasePath(in: data)
            let before = try StateStore(path: path)
            let pending = try before.pendingOutbox(limit: 100_000)
            let victims = Array(Set(pending.map(\.message.customerID)).filter { !$0.isEmpty }.sorted().prefix(2))
            #expect(victims.count == 2, "undelivered changes of the victims are pending")
            let others = pending.filter { !victims.contains($0.message.customerID) }.count
            let stored = try victims.map { try #require(try before.customer($0)) }

            let answer = try CustomerErasure.runOffline(victims, dataDirectory: data, configuration: configuration)
            #expect(answer == "erased \(victims.joined(separator: ", "))")
            let reader = try StoreReader(path: path)
            let after = try StateStore(path: path).pendingOutbox(limit: 100_000)
            for (victim, row) in zip(victims, stored) {
                #expect(try reader.customer(victim) == nil)
                #expect(try reader.transitions(customerID: victim, limit: 100).isEmpty)
                let rows = after.filter { $0.message.customerID == victim }
                #expect(rows.count == 1, "only the last change is left for \(victim)")
                let line = String(decoding: rows.first?.message.payload ?? [], as: UTF8.self)
                #expect(line.contains(#""event_id":"\#(victim):\#(row.transitionSeq + 1)""#))
                #expect(line.contains(#""segment":null,"cause":"erased""#))
                #expect(rows.first?.message.partition == row.partition)
            }
            #expect(after.count == others + 2, "other customers' rows are untouched")
        }
    }

    @Test("the suppression list drops an erased id's events and ties, under either id, and counts them")
    func suppressionDrops() throws {
        try withTemporaryDirectory { directory in
            let store = try StateStore(path: directory.path + "/store.sqlite")
            var batch = StoreBatch()
            batch.suppressedCustomers = ["gone"]
            try store.commit(batch)
            let status = PipelineStatusBoard()
            let suppression = try Suppression(enabled: true, store: store, status: status)
            #expect(suppression.drops(Event(customerID: "gone", type: .pageView, timestamp: 0)))
            #expect(suppression.drops(Event(customerID: "u", type: .pageView, timestamp: 0, anonymousID: "gone")))
            #expect(suppression.drops(IdentityTie(anonymousID: "a", knownID: "gone", at: 0)))
            #expect(!suppression.drops(Event(customerID: "u", type: .pageView, timestamp: 0, anonymousID: "a")))
            #expect(status.read().eventsSuppressed == 3)
            let off = try Suppression(enabled: false, store: store, status: status)
            #expect(!off.drops(Event(customerID: "gone", type: .pageView, timestamp: 0)))
        }
    }

    @Test("a data directory held by a running daemon is not erased directly")
    func lockedDirectory() throws {
        try withTemporaryDirectory { directory in
            let input = partitioned(customers: 100, events: 600, partitions: 1, seed: 25)
            let data = directory.path + "/data"
            let configuration = try fakeConfiguration(dataDirectory: data, batchSize: 100)
            let run = try FakePipelineRun(
                configuration: configuration, sink: FakeOutboxSink(), partitions: input.partitions, maxPerPoll: 100)
            #expect(try waitUntilConsumed(600, dataDirectories: [data]))
            #expect(try CustomerErasure.runOffline(["c"], dataDirectory: data, configuration: configuration) == nil)
            try run.finish(consumed: input.events.count, dataDirectory: data)
        }
    }
}
