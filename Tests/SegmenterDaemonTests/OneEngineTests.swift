import Foundation
import SegmenterCore
import SegmenterKafka
import SegmenterStore
import Testing

@testable import SegmenterDaemon

/// Writes generated events to an NDJSON file, with a few malformed lines among them, and returns the lines as
/// Kafka messages in the same order.
private func generatedStream(customers: Int, events: Int, seed: UInt64, in directory: URL) throws
    -> (path: String, messages: [(key: [UInt8]?, value: [UInt8])])
{
    var lines: [String] = []
    for (i, event) in SyntheticShoppers(customers: customers, events: events, seed: seed).enumerated() {
        lines.append(event.jsonLine())
        if i % 9_973 == 17 { lines.append("{\"customer_id\": \"broken") }
    }
    let path = directory.appendingPathComponent("stream-\(seed).ndjson").path
    try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: false, encoding: .utf8)
    return (path, lines.map { (nil, Array($0.utf8)) })
}

private func replayChanges(_ path: String, configuration: SegmenterConfiguration) throws -> [String] {
    var changes: [String] = []
    let replay = Replay(options: .init(input: path, segmentation: configuration.segmentation)) { change in
        changes.append(withoutEmittedAt(change.jsonLine(emittedAt: change.at)))
    }
    _ = try replay.run()
    return changes
}

/// The changes a fake sink received, in production order, each once (a retry may produce a row twice).
private func publishedChanges(_ sink: FakeOutboxSink) -> [String] {
    var seen: Set<UInt64> = []
    return sink.produced.filter { $0.topic == "segment-changes" && seen.insert($0.token).inserted }
        .map { withoutEmittedAt(String(decoding: $0.value, as: UTF8.self)) }
}

@Suite("one engine")
struct OneEngineTests {
    @Test("replay and the daemon give the same changes in the same order, whatever the batch size, interval and poll size")
    func replayMatchesDaemon() throws {
        try withTemporaryDirectory { directory in
            let stream = try generatedStream(customers: 2_000, events: 30_000, seed: 5, in: directory)
            let base = try fakeConfiguration(dataDirectory: directory.path + "/unused", batchSize: 1)
            let expected = try replayChanges(stream.path, configuration: base)
            #expect(expected.count > 2_000, "every customer gets a first segment, and some move")
            #expect(expected.contains { $0.contains(#""cause":"timer""#) } || expected.contains {
                $0.contains(#""cause":"model""#) }, "the batch-end work (re-evaluation, timers) is exercised")
            for (batchSize, interval, poll) in [(7, 5, 3), (5_000, 100, 500), (1_000, 1, 10_000)] {
                let data = directory.path + "/data-\(batchSize)"
                let sink = FakeOutboxSink()
                let run = try FakePipelineRun(
                    configuration: fakeConfiguration(
                        dataDirectory: data, batchSize: batchSize, batchIntervalMilliseconds: interval),
                    sink: sink, partitions: [stream.messages], maxPerPoll: poll)
                try run.finish(consumed: stream.messages.count, dataDirectory: data)
                let published = publishedChanges(sink)
                #expect(published.count == expected.count, "batch \(batchSize): same number of changes")
                #expect(published == expected, "batch \(batchSize): byte-identical changes apart from emitted_at")
            }
        }
    }

    @Test("on a one-partition topic of the embedded broker, the daemon publishes replay's changes byte for byte")
    func embeddedBrokerMatchesReplay() throws {
        try withTemporaryDirectory { directory in
            let stream = try generatedStream(customers: 1_500, events: 20_000, seed: 6, in: directory)
            let broker = try makeBroker(partitions: 1)
            try produce(stream.messages, broker: broker)
            let data = directory.path + "/data"
            var configuration = try testConfiguration(broker: broker, dataDirectory: data)
            configuration.store.batchSize = 1_234
            let expected = try replayChanges(stream.path, configuration: configuration)
            let running = try RunningPipeline(configuration)
            #expect(try waitUntilConsumed(stream.messages.count, dataDirectories: [data]))
            let published = try readAll("segment-changes", from: broker, atLeast: expected.count)
            try running.finish()
            var seen: Set<String> = []
            let lines = published.map { String(decoding: $0.value, as: UTF8.self) }.filter { line in
                seen.insert(String(line.prefix(while: { $0 != "," }))).inserted
            }.map(withoutEmittedAt)
            #expect(lines.count == expected.count)
            #expect(lines == expected, "same changes, same order, byte for byte apart from emitted_at")
        }
    }

    @Test("a daemon stopped and restarted every few thousand events emits what one uninterrupted run emits")
    func restartsDoNotChangeTheOutput() throws {
        try withTemporaryDirectory { directory in
            let stream = try generatedStream(customers: 1_500, events: 20_000, seed: 8, in: directory)
            let expected = try replayChanges(
                stream.path, configuration: fakeConfiguration(dataDirectory: directory.path + "/x", batchSize: 1))
            let data = directory.path + "/data"
            let sink = FakeOutboxSink()
            // Each run sees a longer prefix of the topic, as a daemon restarted while the topic grows.
            for end in stride(from: 3_001, to: stream.messages.count, by: 3_001) + [stream.messages.count] {
                let run = try FakePipelineRun(
                    configuration: fakeConfiguration(dataDirectory: data, batchSize: 400),
                    sink: sink, partitions: [Array(stream.messages.prefix(end))], maxPerPoll: 250)
                try run.finish(consumed: end, dataDirectory: data)
            }
            #expect(publishedChanges(sink) == expected)
        }
    }

    @Test("a revoke in the middle of a batch commits it; after re-assignment every event is applied exactly once")
    func revokeMidBatch() throws {
        try withTemporaryDirectory { directory in
            let (messages, counts) = generatedMessages(customers: 600, events: 9_000, seed: 3)
            let partitions = (0..<3).map { p in messages.enumerated().filter { $0.offset % 3 == p }.map(\.element) }
            let data = directory.path + "/data"
            let sink = FakeOutboxSink()
            let run = try FakePipelineRun(
                configuration: fakeConfiguration(
                    dataDirectory: data, batchSize: 100_000, batchIntervalMilliseconds: 60_000),
                sink: sink, partitions: partitions, maxPerPoll: 700, revokeAfter: 4_321)
            try run.finish(consumed: messages.count, dataDirectory: data)
            #expect(run.source.revocations == 1)
            let contents = try StoreContents(dataDirectory: data)
            #expect(contents.counts == counts, "each customer's applied count is exact")
            #expect(contents.consumed == Int64(messages.count))
        }
    }
}

@Suite("outbox publisher")
struct OutboxPublisherTests {
    private func storeWithRows(_ count: Int, in directory: URL) throws -> StateStore {
        let store = try StateStore(path: directory.appendingPathComponent("outbox.sqlite").path)
        var batch = StoreBatch()
        batch.outbox = (0..<count).map { i in
            OutboxMessage(eventID: "c\(i):1", customerID: "c\(i)", partition: 0, topic: "segment-changes",
                          key: Array("c\(i)".utf8), payload: Array("change \(i)".utf8), headers: [], createdAt: 0)
        }
        try store.commit(batch)
        return store
    }

    private func tokens(_ sink: FakeOutboxSink) -> [UInt64] { sink.produced.map(\.token) }

    @Test("a delivery that fails twice is retried after a growing backoff and delivered once")
    func failedDeliveriesAreRetriedWithBackoff() throws {
        try withTemporaryDirectory { directory in
            let store = try storeWithRows(3, in: directory)
            let sink = FakeOutboxSink()
            var publisher = OutboxPublisher(logger: .init(label: "test"))
            let start = ContinuousClock.now
            sink.fail(next: 6)
            try publisher.publish(from: store, to: sink)
            try publisher.serviceDeliveries(from: sink, wait: .zero, now: start, wallClock: 0)
            #expect(publisher.failed.count == 3)
            #expect(publisher.retryAfter == start + .milliseconds(500))
            try publisher.retryIfDue(from: store, to: sink, now: start + .milliseconds(499))
            #expect(tokens(sink).count == 3, "nothing is re-sent before the backoff has passed")
            try publisher.retryIfDue(from: store, to: sink, now: start + .milliseconds(500))
            #expect(tokens(sink).count == 6)
            let second = start + .milliseconds(500)
            try publisher.serviceDeliveries(from: sink, wait: .zero, now: second, wallClock: 0)
            #expect(publisher.retryAfter == second + .seconds(1), "the second wait is twice the first")
            try publisher.retryIfDue(from: store, to: sink, now: second + .seconds(1))
            try publisher.serviceDeliveries(from: sink, wait: .zero, now: second + .seconds(1), wallClock: 0)
            #expect(publisher.isIdle)
            #expect(publisher.takeDelivered().sorted() == [1, 2, 3], "each row is delivered exactly once")
            #expect(tokens(sink).count == 9, "three attempts per row: two failures and the delivery")
            #expect(publisher.retryDelay == OutboxPublisher.firstRetryDelay, "success resets the backoff")
        }
    }

    @Test("rows in flight are not sent again, and new rows wait while failed rows wait for their retry")
    func inFlightRowsAreNotResent() throws {
        try withTemporaryDirectory { directory in
            let store = try storeWithRows(4, in: directory)
            let sink = FakeOutboxSink()
            sink.hold()
            var publisher = OutboxPublisher(logger: .init(label: "test"))
            try publisher.publish(from: store, to: sink)
            try publisher.publish(from: store, to: sink)
            try publisher.serviceDeliveries(from: sink, wait: .zero, now: .now, wallClock: 0)
            try publisher.publish(from: store, to: sink)
            #expect(tokens(sink) == [1, 2, 3, 4], "each row produced once while in flight")
            sink.release()
            sink.fail(next: 1)
            var batch = StoreBatch()
            batch.outbox = [OutboxMessage(eventID: "late:1", customerID: "late", partition: 0, topic: "segment-changes",
                                          key: nil, payload: [1], headers: [], createdAt: 0)]
            try store.commit(batch)
            try publisher.serviceDeliveries(from: sink, wait: .zero, now: .now, wallClock: 0)
            try publisher.publish(from: store, to: sink)
            #expect(tokens(sink) == [1, 2, 3, 4, 5])
            try publisher.serviceDeliveries(from: sink, wait: .zero, now: .now, wallClock: 0)
            #expect(publisher.failed == [5])
            batch.outbox = [OutboxMessage(eventID: "later:1", customerID: "later", partition: 0,
                                          topic: "segment-changes", key: nil, payload: [2], headers: [], createdAt: 0)]
            try store.commit(batch)
            try publisher.publish(from: store, to: sink)
            #expect(tokens(sink) == [1, 2, 3, 4, 5], "row 6 waits behind the failed row 5")
        }
    }

    @Test("a committed batch is produced from memory with its insert's row ids; while rows wait, from the store")
    func committedRowsAreProducedFromMemory() throws {
        try withTemporaryDirectory { directory in
            let store = try storeWithRows(2, in: directory)
            let sink = FakeOutboxSink()
            var publisher = OutboxPublisher(logger: .init(label: "test"))
            #expect(publisher.behind, "a new publisher has not looked at the store yet")
            try publisher.publish(from: store, to: sink)
            #expect(!publisher.behind)
            func message(_ id: String, _ payload: String) -> OutboxMessage {
                OutboxMessage(eventID: id, customerID: id, partition: 0, topic: "segment-changes", key: nil,
                              payload: Array(payload.utf8), headers: [], createdAt: 0)
            }
            var batch = StoreBatch()
            batch.outbox = [message("m:1", "stored"), message("c0:1", "repeat")]
            let ids = try store.commit(batch)
            // The payload handed over differs from the stored one only to show which of the two was produced.
            try publisher.publish(
                committed: [message("m:1", "memory"), message("c0:1", "repeat")], ids: ids, triggers: [7, nil],
                to: sink, store: store)
            #expect(ids.count == 2 && ids[1] == nil)
            #expect(tokens(sink) == [1, 2, 3], "the repeat of row 1 is not produced again")
            #expect(sink.produced.last?.value == Array("memory".utf8))
            #expect(publisher.inFlight[3] == .some(7), "the trigger's timestamp travels with the row")

            try publisher.serviceDeliveries(from: sink, wait: .zero, now: .now, wallClock: 0)
            sink.fail(next: 1)
            batch.outbox = [message("n:1", "stored")]
            let failing = try store.commit(batch)
            try publisher.publish(committed: batch.outbox, ids: failing, triggers: [nil], to: sink, store: store)
            try publisher.serviceDeliveries(from: sink, wait: .zero, now: .now, wallClock: 0)
            let failed = try #require(failing[0])
            #expect(publisher.failed == [failed])
            batch.outbox = [message("o:1", "stored")]
            let waiting = try #require(try store.commit(batch)[0])
            try publisher.publish(committed: batch.outbox, ids: [waiting], triggers: [nil], to: sink, store: store)
            #expect(tokens(sink) == [1, 2, 3, UInt64(failed)], "the new row waits behind the failed one")
            try publisher.retryIfDue(from: store, to: sink, now: .now + .seconds(1))
            try publisher.publish(committed: [], ids: [], triggers: [], to: sink, store: store)
            #expect(tokens(sink) == [1, 2, 3, UInt64(failed), UInt64(failed), UInt64(waiting)],
                    "the retry, then the row that waited, from the store")
            #expect(!publisher.behind)
        }
    }

    @Test("after a crash between commit and delivery, the next process re-sends exactly the undelivered rows")
    func crashResendsUndeliveredRows() throws {
        try withTemporaryDirectory { directory in
            let store = try storeWithRows(5, in: directory)
            let sink = FakeOutboxSink()
            var first = OutboxPublisher(logger: .init(label: "test"))
            try first.publish(from: store, to: sink)
            let reports = sink.pollDeliveries(timeout: .zero)
            #expect(reports.count == 5)
            // Rows 2 and 4 were confirmed and their deletion committed; then the process died.
            var batch = StoreBatch()
            batch.deleteOutboxIDs = [2, 4]
            try store.commit(batch)
            let after = FakeOutboxSink()
            var second = OutboxPublisher(logger: .init(label: "test"))
            try second.publish(from: store, to: after)
            #expect(after.produced.map(\.token) == [1, 3, 5])
            let resent = after.produced.map { String(decoding: $0.value, as: UTF8.self) }
            #expect(resent == ["change 0", "change 2", "change 4"])
        }
    }
}

@Suite("input presets in the daemon")
struct PresetPipelineTests {
    @Test("a Segment topic runs through the daemon like replay; identify calls are counted, never dead-lettered")
    func segmentTopic() throws {
        try withTemporaryDirectory { directory in
            var lines = SyntheticShoppers(customers: 400, events: 6_000, seed: 31).map { $0.jsonLine(format: .segment) }
            let identify =
                #"{"type":"identify","userId":"c-000001","messageId":"m-x","timestamp":"2026-01-02T00:00:00Z"}"#
            for position in stride(from: 100, to: lines.count, by: 1_000) { lines.insert(identify, at: position) }
            let path = directory.appendingPathComponent("segment.ndjson").path
            try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: false, encoding: .utf8)
            let data = directory.path + "/data"
            var configuration = try fakeConfiguration(dataDirectory: data, batchSize: 500)
            configuration.segmentation.inputFormat = .segment
            var expected: [String] = []
            let replay = Replay(options: .init(input: path, segmentation: configuration.segmentation)) { change in
                expected.append(withoutEmittedAt(change.jsonLine(emittedAt: change.at)))
            }
            let summary = try replay.run()
            #expect(summary.skipped == 6 && summary.invalid == 0)
            let sink = FakeOutboxSink()
            let run = try FakePipelineRun(
                configuration: configuration, sink: sink, partitions: [lines.map { (nil, Array($0.utf8)) }],
                maxPerPoll: 300)
            try run.finish(consumed: lines.count, dataDirectory: data)
            #expect(!sink.produced.contains { $0.topic == "segmenter-dlq" }, "identify is not a dead letter")
            #expect(run.pipeline.status.read().skippedByReason == ["not_behaviour": 6])
            let published = publishedChanges(sink)
            #expect(published == expected)
        }
    }
}
