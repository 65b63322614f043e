import Foundation
import Logging
import SegmenterCore
import SegmenterStore
import Testing

@testable import SegmenterDaemon

/// The second stage on a real store in a temporary directory and a fake producer.
@Suite("batch committer")
struct BatchCommitterTests {
    private func withCommitter(_ body: (BatchCommitter, StateStore, FakeOutboxSink) throws -> Void) throws {
        let directory = NSTemporaryDirectory() + "committer-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try StateStore(path: directory + "/state.sqlite")
        let sink = FakeOutboxSink()
        let committer = BatchCommitter(
            store: store, sink: sink, changesTopic: "segment-changes",
            publisher: OutboxPublisher(logger: Logger(label: "test")))
        try body(committer, store, sink)
    }

    private func change(_ id: String, sequence: Int64) -> SegmentChange {
        SegmentChange(
            customerID: id, sequence: sequence, previous: nil, segment: .init(id: 3, name: "Browsers"), cause: .event,
            triggerEventID: "e-1", at: 1_000, modelVersion: 1, features: [("orders", 1)])
    }

    @Test("a batch's changes and messages are stored with its offsets in one commit, then published in order")
    func commitsThenPublishes() throws {
        try withCommitter { committer, store, sink in
            var batch = StoreBatch()
            batch.offsets = [TopicPartitionKey(topic: "events", partition: 0): 12]
            let letter = OutboxMessage(
                eventID: "dlq:events/0/3", customerID: "", partition: 0, topic: "segmenter-dlq", key: nil,
                payload: Array("bad".utf8), createdAt: 0)
            committer.submit(&batch, entries: [
                .change(change("c1", sequence: 1), partition: 0, trigger: nil), .message(letter),
            ])
            #expect(committer.inFlight)
            let outcome = try #require(try committer.finish())
            #expect(outcome.commitSeconds >= 0)
            #expect(!committer.inFlight)
            #expect(try store.offsets() == [TopicPartitionKey(topic: "events", partition: 0): 12])
            #expect(sink.produced.map(\.topic) == ["segment-changes", "segmenter-dlq"])
            #expect(String(decoding: sink.produced[0].value, as: UTF8.self).contains(#""event_id":"c1:1""#))
        }
    }

    @Test("delivered rows are deleted with the next batch")
    func deletesDelivered() throws {
        try withCommitter { committer, store, _ in
            var batch = StoreBatch()
            committer.submit(&batch, entries: [.change(change("c1", sequence: 1), partition: 0, trigger: nil)])
            try committer.finish()
            #expect(try store.outboxCount() == 1)
            #expect(committer.publisher.delivered.count == 1, "the fake reports deliveries at once")
            var next = StoreBatch()
            committer.submit(&next, entries: [])
            try committer.finish()
            #expect(try store.outboxCount() == 0)
        }
    }
}
