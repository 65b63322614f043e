import Foundation
import Testing

@testable import SegmenterCore

/// A seeded, bounded fuzz run over the decoder (issue #14) that builds messages from a grammar instead of
/// mutating valid ones: every known field gets a value of a random JSON type (strings with random escapes and raw
/// UTF-8, extreme numbers, deep containers), keys repeat, unknown members nest, and some messages are byte soup.
/// The decoder must terminate, reject with a known code and a sentence, accept only what the reference accepts,
/// and extract the same event when both accept.
@Suite("EventDecoder fuzz")
struct EventDecoderFuzzTests {
    struct Grammar {
        var rng: SplitMix64

        mutating func pick<T>(_ options: [T]) -> T { options[Int(rng.next() % UInt64(options.count))] }
        mutating func chance(_ percent: UInt64) -> Bool { rng.next() % 100 < percent }

        mutating func string() -> String {
            let pieces = ["c-1", "purchase", "page_view", "\\u0000", "\\\"", "\\\\", "\\ud83d\\ude00", "\\ud800",
                          "é", "😀", "\\n", " ", "2026-03-01T12:00:00Z", "x", "\\u00", "\u{7F}", "shoes", ""]
            return "\"" + (0..<Int(rng.next() % 4)).map { _ in pick(pieces) }.joined() + "\""
        }

        mutating func number() -> String {
            pick(["0", "-0", "1", "129.9", "1e400", "-1e400", "1e-400", "99999999999999999999999",
                  "1767225600000", "-1", "1.5e3", "01", "1.", ".5", "+1", "1e", "9223372036854775807",
                  "9223372036854775808", "4102444800000", "NaN", "Infinity"])
        }

        mutating func value(depth: Int) -> String {
            switch rng.next() % (depth > 3 ? 5 : 7) {
            case 0: return string()
            case 1: return number()
            case 2: return pick(["true", "false", "null", "nul", "tru"])
            case 3: return string()
            case 4: return number()
            case 5: return "[" + (0..<Int(rng.next() % 3)).map { _ in value(depth: depth + 1) }.joined(separator: ",")
                + "]"
            default: return object(depth: depth + 1, known: false)
            }
        }

        mutating func object(depth: Int, known: Bool) -> String {
            let top = ["event_id", "customer_id", "type", "timestamp", "session_id", "properties", "extra"]
            let properties = ["value", "quantity", "category", "product_id", "device", "channel", "country", "x"]
            var members: [String] = []
            for _ in 0..<Int(rng.next() % 9) {
                let key = known ? pick(depth == 0 ? top : properties) : "k\(rng.next() % 5)"
                let member: String
                switch key {
                case "customer_id" where chance(60): member = pick(["\"c-1\"", "\"c-2\"", string()])
                case "type" where chance(60): member = pick(["\"purchase\"", "\"teleport\"", string()])
                case "timestamp" where chance(60): member = pick(["\"2026-03-01T12:00:00Z\"", "1767225600000",
                                                                  number(), string()])
                case "properties" where chance(70): member = object(depth: depth + 1, known: true)
                case "value", "quantity": member = chance(60) ? number() : value(depth: depth + 1)
                default: member = value(depth: depth + 1)
                }
                members.append("\"" + key + "\":" + member)
            }
            return "{" + members.joined(separator: pick([",", " , ", ",\n"])) + "}"
        }

        mutating func message() -> [UInt8] {
            switch rng.next() % 20 {
            case 0: return (0..<Int(rng.next() % 64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            case 1: return Array(String(repeating: "[", count: Int(rng.next() % 2_000)).utf8)
            case 2: return [0xEF, 0xBB, 0xBF] + Array(object(depth: 0, known: true).utf8)
            case 3: return Array(value(depth: 0).utf8)
            default:
                var bytes = Array(object(depth: 0, known: true).utf8)
                if chance(10), !bytes.isEmpty { bytes.removeLast(Int(rng.next() % UInt64(bytes.count))) }
                return bytes
            }
        }
    }

    @Test("20,000 grammar-built messages: known codes, sentences, never accepted when the reference rejects")
    func grammarFuzz() {
        let decoder = EventDecoder()
        var grammar = Grammar(rng: SplitMix64(seed: 14))
        var outcomes: [String: Int] = [:]
        let deadline = ContinuousClock.now + .seconds(60)
        for _ in 0..<20_000 where ContinuousClock.now < deadline {
            let bytes = grammar.message()
            let text = String(decoding: bytes, as: UTF8.self)
            switch (EventDecoderDifferentialTests.reference(bytes), decoder.decode(bytes)) {
            case (.event(let expected), .success(let event)):
                #expect(event == expected, "\(text)")
                #expect(!event.customerID.isEmpty && event.customerID.utf8.count <= EventDecoder.maxCustomerIDBytes)
                #expect((event.value ?? 0).isFinite && (event.quantity ?? 0).isFinite)
                outcomes["accepted", default: 0] += 1
            case (_, .success):
                Issue.record("accepted what the reference rejects: \(text)")
            case (.event, .failure(let rejection)) where !Self.isStricterByDesign(bytes, rejection):
                Issue.record("rejected what the reference accepts (\(rejection)): \(text)")
            case (_, .failure(let rejection)):
                #expect(!rejection.message.isEmpty)
                outcomes[rejection.code.rawValue, default: 0] += 1
            }
        }
        // A fuzz run that never reaches a code proves nothing about it.
        for code in ["accepted", "invalid_json", "not_an_object", "missing_field", "invalid_field",
                     "invalid_customer_id", "invalid_timestamp", "non_finite_number"] {
            #expect(outcomes[code, default: 0] >= 20, "\(code): \(outcomes)")
        }
    }

    /// Where the decoder is stricter than Foundation on purpose (README, "What happens to awkward input"):
    /// Foundation skips a UTF-8 byte order mark, which the decoder rejects as invalid JSON (RFC 8259 §8.1: must
    /// not be added); Foundation keeps only the last of repeated keys, while the decoder also requires the
    /// earlier values of a known field to be valid; and numbers must be finite anywhere in the message, unknown
    /// members included, where Foundation turns 1e400 into infinity.
    static func isStricterByDesign(_ bytes: [UInt8], _ rejection: EventRejection) -> Bool {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) || rejection.code == .nonFiniteNumber { return true }
        let text = String(decoding: bytes, as: UTF8.self)
        let known = ["customer_id", "type", "timestamp", "event_id", "session_id", "properties", "value", "quantity",
                     "category", "product_id", "device", "channel", "country"]
        return known.contains { text.components(separatedBy: "\"\($0)\":").count > 2 }
    }
}
