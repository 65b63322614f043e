import Foundation
import SegmenterCore
import SegmenterKafka
import SegmenterStore
import Testing

@testable import SegmenterDaemon

/// What the daemon must do with one message of the bad-input corpus (issue #14).
enum CorpusOutcome: Equatable {
    /// Sent to the dead-letter topic, counted under this reason.
    case deadLetter(EventRejection.Code)
    /// Applied to this customer (the body's `customer_id` decides, never the Kafka key).
    case applied(customer: String)
    /// Skipped as a replay of an event id the customer has seen.
    case duplicate
}

/// Every kind of bad or awkward input the issue lists, and more, with the documented outcome.
let badInputCorpus: [(kind: String, key: [UInt8]?, value: [UInt8], outcome: CorpusOutcome)] = {
    func text(_ s: String) -> [UInt8] { Array(s.utf8) }
    let ok = #""type":"page_view","timestamp":"2026-01-20T10:00:00Z""#
    let deep = String(repeating: "[", count: 5_000) + String(repeating: "]", count: 5_000)
    let padding = String(repeating: "x", count: 65_536 + 1 - #"{"customer_id":"c-big","pad":""}"#.utf8.count)
    var corpus: [(String, [UInt8]?, [UInt8], CorpusOutcome)] = [
        ("truncated JSON", nil, text(#"{"customer_id":"c-000001","type":"purch"#), .deadLetter(.invalidJSON)),
        ("deep nesting", nil, text(#"{"customer_id":"c-000001",\#(ok),"x":\#(deep)}"#), .deadLetter(.invalidJSON)),
        ("huge number", nil, text(#"{"customer_id":"c-000001",\#(ok),"properties":{"value":1e400}}"#),
         .deadLetter(.nonFiniteNumber)),
        ("huge timestamp", nil, text(#"{"customer_id":"c-000001","type":"search","timestamp":99999999999999999999}"#),
         .deadLetter(.invalidTimestamp)),
        ("invalid UTF-8", nil, text(#"{"customer_id":"c-"#) + [0xFF, 0xFE] + text(#"",\#(ok)}"#),
         .deadLetter(.invalidJSON)),
        ("raw NUL byte", nil, text(#"{"customer_id":"c-"#) + [0x00] + text(#"",\#(ok)}"#),
         .deadLetter(.invalidJSON)),
        ("byte order mark", nil, [0xEF, 0xBB, 0xBF] + text(#"{"customer_id":"c-000001",\#(ok)}"#),
         .deadLetter(.invalidJSON)),
        ("empty message", nil, [], .deadLetter(.invalidJSON)),
        ("64 KiB + 1", nil, text(#"{"customer_id":"c-big","pad":"\#(padding)"}"#), .deadLetter(.tooLarge)),
        ("not an object", nil, text("[1,2,3]"), .deadLetter(.notAnObject)),
        ("NaN literal", nil, text(#"{"customer_id":"c-000001",\#(ok),"properties":{"value":NaN}}"#),
         .deadLetter(.nonFiniteNumber)),
        ("trailing garbage", nil, text(#"{"customer_id":"c-000001",\#(ok)} x"#), .deadLetter(.invalidJSON)),
        ("missing customer_id", nil, text("{\(ok)}"), .deadLetter(.missingField)),
        ("empty customer_id", nil, text(#"{"customer_id":"",\#(ok)}"#), .deadLetter(.invalidCustomerID)),
        ("customer_id over 256 bytes", nil,
         text(#"{"customer_id":"\#(String(repeating: "c", count: 257))",\#(ok)}"#), .deadLetter(.invalidCustomerID)),
        ("timestamp in words", nil, text(#"{"customer_id":"c-000001","type":"search","timestamp":"yesterday"}"#),
         .deadLetter(.invalidTimestamp)),
    ]
    // Wrong types in every field.
    let wrongTypes: [(String, String)] = [
        ("customer_id", #"{"customer_id":42,\#(ok)}"#),
        ("type", #"{"customer_id":"c-000001","type":5,"timestamp":1767225600000}"#),
        ("timestamp", #"{"customer_id":"c-000001","type":"search","timestamp":true}"#),
        ("event_id", #"{"event_id":{},"customer_id":"c-000001",\#(ok)}"#),
        ("session_id", #"{"session_id":7,"customer_id":"c-000001",\#(ok)}"#),
        ("properties", #"{"customer_id":"c-000001",\#(ok),"properties":"none"}"#),
        ("properties.value", #"{"customer_id":"c-000001",\#(ok),"properties":{"value":"12"}}"#),
        ("properties.quantity", #"{"customer_id":"c-000001",\#(ok),"properties":{"quantity":[]}}"#),
        ("properties.category", #"{"customer_id":"c-000001",\#(ok),"properties":{"category":5}}"#),
        ("properties.product_id", #"{"customer_id":"c-000001",\#(ok),"properties":{"product_id":false}}"#),
        ("properties.device", #"{"customer_id":"c-000001",\#(ok),"properties":{"device":1}}"#),
        ("properties.channel", #"{"customer_id":"c-000001",\#(ok),"properties":{"channel":{}}}"#),
        ("properties.country", #"{"customer_id":"c-000001",\#(ok),"properties":{"country":[1]}}"#),
    ]
    for (field, json) in wrongTypes {
        let code: EventRejection.Code = switch field {
        case "customer_id": .invalidCustomerID
        case "timestamp": .invalidTimestamp
        default: .invalidField
        }
        corpus.append(("wrong type: \(field)", nil, text(json), .deadLetter(code)))
    }
    // Handled, not dead-lettered: each documented in the README.
    corpus += [
        ("duplicate keys (the last wins)", nil,
         text(#"{"customer_id":"nobody","customer_id":"c-dup",\#(ok)}"#), .applied(customer: "c-dup")),
        ("null key", nil, text(#"{"customer_id":"c-nullkey",\#(ok)}"#), .applied(customer: "c-nullkey")),
        ("key differs from customer_id", text("someone-else"), text(#"{"customer_id":"c-body",\#(ok)}"#),
         .applied(customer: "c-body")),
        ("unknown type and unknown fields", nil,
         text(#"{"customer_id":"c-odd","type":"teleport","timestamp":1768903200000,"x":{"y":[1,null]}}"#),
         .applied(customer: "c-odd")),
        ("escaped NUL in a string", nil, text(#"{"customer_id":"c-esc\u0000",\#(ok)}"#),
         .applied(customer: "c-esc\u{0}")),
        ("out of order (an hour before the customer's previous event)", nil,
         text(#"{"event_id":"late-1","customer_id":"c-body","type":"search","timestamp":"2026-01-20T09:00:00Z"}"#),
         .applied(customer: "c-body")),
        ("replayed event (same event_id again)", nil,
         text(#"{"event_id":"late-1","customer_id":"c-body","type":"search","timestamp":"2026-01-20T09:00:00Z"}"#),
         .duplicate),
    ]
    return corpus.map { (kind: $0.0, key: $0.1, value: $0.2, outcome: $0.3) }
}()

@Suite("bad-input corpus through the daemon", .serialized, .timeLimit(.minutes(5)))
struct BadInputCorpusTests {
    @Test("the corpus has at least 20 kinds and the decoder gives each its documented outcome")
    func decoderOutcomes() {
        #expect(badInputCorpus.filter { if case .deadLetter = $0.outcome { true } else { false } }.count >= 20)
        for entry in badInputCorpus {
            switch (entry.outcome, EventDecoder().decode(entry.value)) {
            case (.deadLetter(let code), .failure(let rejection)):
                #expect(rejection.code == code, "\(entry.kind): \(rejection)")
                #expect(!rejection.message.isEmpty)
            case (.applied(let customer), .success(let event)):
                #expect(event.customerID == customer, "\(entry.kind)")
            case (.duplicate, .success):
                break
            case (let outcome, let result):
                Issue.record("\(entry.kind): expected \(outcome), decoded \(result)")
            }
        }
    }

    @Test("every bad message is dead-lettered with its reason, the rest applied exactly, valid events flow")
    func corpusThroughTheDaemon() throws {
        try withTemporaryDirectory { directory in
            let broker = try makeBroker()
            var (messages, expected) = generatedMessages(customers: 300, events: 6_000, seed: 14)
            // Valid traffic before, between and after the corpus; the corpus stays in order on one key-less run.
            let corpus = badInputCorpus.enumerated().map { i, entry in
                (key: entry.key ?? (entry.outcome == .applied(customer: "c-nullkey") ? nil : Array("bad-\(i)".utf8)),
                 value: entry.value)
            }
            messages.insert(contentsOf: corpus, at: 3_000)
            try produce(messages, broker: broker)

            let data = directory.appendingPathComponent("data").path
            let running = try RunningPipeline(testConfiguration(broker: broker, dataDirectory: data))
            let caughtUp = try waitUntilConsumed(messages.count, dataDirectories: [data])
            let status = running.pipeline.status.read()
            try running.finish()
            #expect(caughtUp)

            var expectedInvalid: [String: Int64] = [:]
            var deadLettered: [(key: [UInt8]?, value: [UInt8])] = []
            var duplicates: Int64 = 0
            for (entry, message) in zip(badInputCorpus, corpus) {
                switch entry.outcome {
                case .deadLetter(let code):
                    expectedInvalid[code.rawValue, default: 0] += 1
                    deadLettered.append(message)
                case .applied(let customer): expected[customer, default: 0] += 1
                case .duplicate: duplicates += 1
                }
            }
            let stored = try StoreContents(dataDirectory: data)
            #expect(stored.counts == expected, "valid and handled events applied exactly once")
            #expect(stored.consumed == Int64(messages.count), "every message consumed, the bad ones included")
            let final = running.pipeline.status.read()
            #expect(final.invalidByReason == expectedInvalid || status.invalidByReason == expectedInvalid,
                    "\(final.invalidByReason)")
            #expect(final.duplicates >= duplicates)

            let dead = try readAll("segmenter-dlq", from: broker, atLeast: deadLettered.count)
            #expect(dead.count == deadLettered.count)
            for message in deadLettered {
                let name = message.key.map { String(decoding: $0, as: UTF8.self) } ?? "no key"
                let letter = try #require(dead.first { $0.key == message.key }, "dead letter of \(name)")
                #expect(letter.value == message.value, "original bytes unchanged")
                let reason = letter.headers.first { $0.key == "segmenter.error" }?.value
                #expect(reason.map { !$0.isEmpty } == true)
                #expect(letter.headers.contains { $0.key == "segmenter.source" })
            }
        }
    }
}
