import Foundation
import SegmenterCore
import SegmenterKafka
import SegmenterStore
import Testing

@testable import SegmenterDaemon

/// One bad message of every rejection kind, with the reason code it must be dead-lettered with.
let badMessages: [(value: String, code: EventRejection.Code)] = [
    (#"{"customer_id":"c-x","type":"search","timestamp":1,"pad":""# + String(repeating: "x", count: 70_000) + "\"}",
     .tooLarge),
    (#"{"customer_id": "c-x", "type": "search""#, .invalidJSON),
    ("[1,2,3]", .notAnObject),
    (#"{"type":"search","timestamp":1}"#, .missingField),
    (#"{"customer_id":"","type":"search","timestamp":1}"#, .invalidCustomerID),
    (#"{"customer_id":""# + String(repeating: "c", count: 300) + #"","type":"search","timestamp":1}"#,
     .invalidCustomerID),
    (#"{"customer_id":"c-x","type":"search","timestamp":"yesterday"}"#, .invalidTimestamp),
    (#"{"customer_id":"c-x","type":"purchase","timestamp":1,"properties":{"value":1e999}}"#, .nonFiniteNumber),
    (#"{"customer_id":"c-x","type":5,"timestamp":1}"#, .invalidField),
]

@Suite("daemon end to end", .serialized, .timeLimit(.minutes(5)))
struct DaemonEndToEndTests {
    @Test("valid events are applied exactly, bad ones dead-lettered with reasons, change chains are consistent")
    func endToEnd() throws {
        try withTemporaryDirectory { directory in
            let broker = try makeBroker()
            var (messages, expected) = generatedMessages(customers: 600, events: 20_000, seed: 8)
            let bad = badMessages.enumerated().map { i, m in (key: Array("bad-\(i)".utf8) as [UInt8]?, value: Array(m.value.utf8)) }
            messages.insert(contentsOf: bad, at: 7_000)
            try produce(messages, broker: broker)

            let data = directory.appendingPathComponent("data").path
            let running = try RunningPipeline(testConfiguration(broker: broker, dataDirectory: data))
            let caughtUp = try waitUntilConsumed(messages.count, dataDirectories: [data])
            try running.finish()
            #expect(caughtUp)

            let stored = try StoreContents(dataDirectory: data)
            #expect(stored.counts == expected, "every customer's applied-event count equals its valid events")
            let mayBeWaiting = customersStillInTheirFirstSession(customers: 600, events: 20_000, seed: 8)
            #expect(stored.withoutSegment <= mayBeWaiting, "only customers whose first session had not ended")
            #expect(stored.outbox == 0, "everything published")

            let dead = try readAll("segmenter-dlq", from: broker, atLeast: bad.count)
            #expect(dead.count == bad.count)
            for (i, message) in bad.enumerated() {
                let letter = try #require(dead.first { $0.key == message.key })
                #expect(letter.value == message.value, "original bytes unchanged")
                let reason = letter.headers.first { $0.key == "segmenter.error" }?.value.map { String(decoding: $0, as: UTF8.self) }
                let source = letter.headers.first { $0.key == "segmenter.source" }?.value.map { String(decoding: $0, as: UTF8.self) }
                let expectedMessage = EventDecoder().decode(message.value).failureMessage
                #expect(reason == expectedMessage, "dead letter \(i): \(badMessages[i].code)")
                #expect(source?.hasPrefix("events/") == true)
                #expect(EventDecoder().decode(message.value).failureCode == badMessages[i].code)
            }

            let changes = try readAll("segment-changes", from: broker,
                                      atLeast: stored.transitions.values.reduce(0) { $0 + $1.count })
            var byID: [String: [String: Any]] = [:]
            for message in changes {
                let json = try #require(try JSONSerialization.jsonObject(with: Data(message.value)) as? [String: Any])
                let id = try #require(json["event_id"] as? String)
                #expect(byID[id] == nil, "event_id \(id) is unique")
                byID[id] = json
            }
            for (customer, transitions) in stored.transitions {
                var previous: Int?
                for (n, transition) in transitions.enumerated() {
                    #expect(transition.seq == Int64(n + 1), "\(customer): sequence without gaps")
                    let json = try #require(byID["\(customer):\(transition.seq)"], "\(customer):\(transition.seq) published")
                    let previousSegment = (json["previous_segment"] as? [String: Any])?["id"] as? Int
                    #expect(previousSegment == previous, "\(customer): chain is consistent")
                    previous = (json["segment"] as? [String: Any])?["id"] as? Int
                    #expect(previous == transition.toSegment)
                }
            }
        }
    }

    @Test("a restart resumes from the stored offsets even when the group's Kafka offsets are gone")
    func restartWithNewGroup() throws {
        try withTemporaryDirectory { directory in
            let broker = try makeBroker(groups: ["g1", "g2"])
            let (first, counts) = generatedMessages(customers: 300, events: 6_000, seed: 2)
            try produce(first, broker: broker)
            let data = directory.appendingPathComponent("data").path
            var running = try RunningPipeline(testConfiguration(broker: broker, dataDirectory: data, group: "g1"))
            #expect(try waitUntilConsumed(first.count, dataDirectories: [data]))
            try running.finish()
            #expect(try StoreContents(dataDirectory: data).counts == counts)

            // A new group has no committed offsets and auto.offset.reset=earliest: only the store knows.
            let (second, moreCounts) = generatedMessages(customers: 300, events: 3_000, seed: 99)
            try produce(second, broker: broker)
            running = try RunningPipeline(testConfiguration(broker: broker, dataDirectory: data, group: "g2"))
            #expect(try waitUntilConsumed(first.count + second.count, dataDirectories: [data]))
            try running.finish()
            let expected = counts.merging(moreCounts, uniquingKeysWith: +)
            #expect(try StoreContents(dataDirectory: data).counts == expected, "nothing applied twice, nothing missed")
        }
    }

    @Test("the daemon's real segment changes and dead-letter headers validate against the JSON Schemas")
    func outputMatchesSchemas() throws {
        try withTemporaryDirectory { directory in
            let broker = try makeBroker(partitions: 2)
            var (messages, _) = generatedMessages(customers: 200, events: 3_000, seed: 4)
            messages.append((Array("bad".utf8), Array("not json".utf8)))
            try produce(messages, broker: broker)
            let data = directory.appendingPathComponent("data").path
            let running = try RunningPipeline(testConfiguration(broker: broker, dataDirectory: data, initSample: 200))
            #expect(try waitUntilConsumed(messages.count, dataDirectories: [data]))
            try running.finish()
            let changes = try readAll("segment-changes", from: broker, atLeast: 200)
            let dead = try readAll("segmenter-dlq", from: broker, atLeast: 1)
            let changesFile = directory.appendingPathComponent("changes.ndjson")
            try changes.map { String(decoding: $0.value, as: UTF8.self) }.joined(separator: "\n")
                .write(to: changesFile, atomically: true, encoding: .utf8)
            let headersFile = directory.appendingPathComponent("dlq-headers.ndjson")
            let headerLines = try dead.map { message in
                let object = Dictionary(uniqueKeysWithValues: message.headers.map {
                    ($0.key, String(decoding: $0.value ?? [], as: UTF8.self))
                })
                return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
            }
            try headerLines.joined(separator: "\n").write(to: headersFile, atomically: true, encoding: .utf8)
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent()
            let check = Process()
            check.executableURL = root.appendingPathComponent("scripts/check-schemas")
            check.arguments = ["--ndjson", "segment-change", changesFile.path,
                               "--ndjson", "dead-letter-headers", headersFile.path]
            check.currentDirectoryURL = root
            let pipe = Pipe()
            check.standardOutput = pipe
            check.standardError = pipe
            try check.run()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            check.waitUntilExit()
            #expect(check.terminationStatus == 0, "check-jsonschema: \(output)")
            #expect(output.contains("\(changes.count) lines checked"))
        }
    }
}

extension Result where Success == Event, Failure == EventRejection {
    var failureMessage: String? { if case .failure(let r) = self { r.message } else { nil } }
    var failureCode: EventRejection.Code? { if case .failure(let r) = self { r.code } else { nil } }
}
