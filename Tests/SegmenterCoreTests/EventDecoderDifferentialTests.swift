import Foundation
import Testing
@testable import SegmenterCore

/// The decoder checked against Foundation's `JSONSerialization` as the reference JSON parser, on generated events
/// and on seeded random mutations of them: the decoder must never accept what the reference rejects, and where
/// both accept they must extract the same event.
@Suite("EventDecoder vs JSONSerialization")
struct EventDecoderDifferentialTests {
    /// What the reference makes of a message: not JSON, JSON but not an acceptable event, or an event.
    enum ReferenceOutcome: Equatable {
        case notJSON
        case notAnEvent
        case event(Event)
    }

    static func reference(_ bytes: [UInt8]) -> ReferenceOutcome {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) else {
            return .notJSON
        }
        guard let members = object as? [String: Any] else { return .notAnEvent }
        do {
            guard let customerID = try string(members["customer_id"]), !customerID.isEmpty,
                customerID.utf8.count <= EventDecoder.maxCustomerIDBytes,
                let type = try string(members["type"]),
                let timestamp = timestamp(members["timestamp"])
            else { return .notAnEvent }
            var event = Event(
                eventID: try string(members["event_id"]), customerID: customerID, type: EventType(wireName: type),
                timestamp: timestamp, sessionID: try string(members["session_id"]))
            if let properties = members["properties"], !(properties is NSNull) {
                guard let properties = properties as? [String: Any] else { return .notAnEvent }
                event.value = try number(properties["value"])
                event.quantity = try number(properties["quantity"])
                event.category = try string(properties["category"])
                event.productID = try string(properties["product_id"])
                event.device = try string(properties["device"])
                event.channel = try string(properties["channel"])
                event.country = try string(properties["country"])
            }
            return .event(event)
        } catch {
            return .notAnEvent
        }
    }

    struct WrongType: Error {}

    private static func isBoolean(_ value: Any) -> Bool {
        guard let number = value as? NSNumber else { return false }
        return String(cString: number.objCType) == "c"
    }

    private static func string(_ value: Any?) throws -> String? {
        guard let value, !(value is NSNull) else { return nil }
        guard let text = value as? String else { throw WrongType() }
        return text
    }

    private static func number(_ value: Any?) throws -> Double? {
        guard let value, !(value is NSNull) else { return nil }
        guard let number = value as? NSNumber, !isBoolean(number), number.doubleValue.isFinite else {
            throw WrongType()
        }
        return number.doubleValue
    }

    private static func timestamp(_ value: Any?) -> Int64? {
        if let text = value as? String { return RFC3339.parse(text) }
        guard let number = value as? NSNumber, !isBoolean(number) else { return nil }
        let milliseconds: Int64
        if String(cString: number.objCType) == "d" {
            let double = number.doubleValue
            guard double.isFinite, double == double.rounded(), abs(double) < 9.2e18 else { return nil }
            milliseconds = Int64(double)
        } else {
            milliseconds = number.int64Value
        }
        let range = RFC3339.minEpochMilliseconds...RFC3339.maxEpochMilliseconds
        return range.contains(milliseconds) ? milliseconds : nil
    }

    /// Valid messages in several spellings: as generated, spaced out, with unknown nested members, with escapes,
    /// and with epoch-millisecond timestamps.
    static func validMessages(count: Int) -> [String] {
        var shoppers = SyntheticShoppers(customers: 200, events: count, seed: 2024)
        var messages: [String] = []
        var variant = 0
        while let event = shoppers.next() {
            let line = event.jsonLine()
            variant += 1
            switch variant % 5 {
            case 0: messages.append(line)
            case 1:
                let spaced = line.replacingOccurrences(of: "\",", with: "\" ,\n ")
                    .replacingOccurrences(of: "\":", with: "\"\t: ")
                messages.append(" " + spaced + " \r\n")
            case 2:
                let unknown = #"{"ctx":{"ua":"Mozilla/5.0 (X11)","ids":[1,2.5e3,-0.0,true,null,"\u00e9"],"o":{}},"#
                let nested = line.dropFirst().replacingOccurrences(of: "{\"value", with: "{\"x\":[[]],\"value")
                messages.append(unknown + nested)
            case 3:
                messages.append(line.replacingOccurrences(of: "c-", with: "c\\u002d")
                    .replacingOccurrences(of: "mobile", with: "mob\\u0069le\\ud83d\\ude00"))
            default:
                let iso = "\"" + RFC3339.format(event.timestamp) + "\""
                messages.append(line.replacingOccurrences(of: iso, with: String(event.timestamp)))
            }
        }
        return messages
    }

    /// One to three random edits: byte flips (to random or JSON-significant bytes), deletions, insertions,
    /// truncations.
    static func mutate(_ message: [UInt8], using rng: inout SplitMix64) -> [UInt8] {
        let significant = Array("{}[],:\"\\ 0123456789eE.-+ntfuNaI".utf8) + [0x00, 0x0A, 0x80, 0xC3, 0xE2, 0xFF]
        var bytes = message
        for _ in 0...(rng.next() % 3) where !bytes.isEmpty {
            let position = Int(rng.next() % UInt64(bytes.count))
            let replacement = rng.next() % 2 == 0 ? UInt8(truncatingIfNeeded: rng.next())
                : significant[Int(rng.next() % UInt64(significant.count))]
            switch rng.next() % 4 {
            case 0: bytes[position] = replacement
            case 1: bytes.remove(at: position)
            case 2: bytes.insert(replacement, at: position)
            default: bytes.removeSubrange(position...)
            }
        }
        return bytes
    }

    @Test("valid generated messages: both accept and extract the same event")
    func validMessagesAgree() {
        let decoder = EventDecoder()
        for message in Self.validMessages(count: 2_000) {
            let bytes = Array(message.utf8)
            guard case .event(let expected) = Self.reference(bytes) else {
                Issue.record("the reference rejected a generated message: \(message)")
                continue
            }
            #expect((try? decoder.decode(bytes).get()) == expected, "\(message)")
        }
    }

    @Test("mutated messages: never accepted when the reference rejects; the same event when both accept")
    func mutatedMessagesAgree() {
        let decoder = EventDecoder()
        var rng = SplitMix64(seed: 99)
        var outcomes: [String: Int] = [:]
        for message in Self.validMessages(count: 3_000) {
            for _ in 0..<8 {
                let bytes = Self.mutate(Array(message.utf8), using: &rng)
                let text = String(decoding: bytes, as: UTF8.self)
                let decoded = decoder.decode(bytes)
                switch (Self.reference(bytes), decoded) {
                case (.notJSON, .success), (.notAnEvent, .success):
                    Issue.record("accepted what the reference rejects: \(text)")
                case (.event(let expected), .success(let event)):
                    #expect(event == expected, "\(text)")
                    outcomes["both accept", default: 0] += 1
                case (.event, .failure(let rejection)):
                    Issue.record("rejected what the reference accepts (\(rejection)): \(text)")
                case (.notJSON, .failure):
                    outcomes["both reject as JSON", default: 0] += 1
                case (.notAnEvent, .failure):
                    outcomes["both reject the event", default: 0] += 1
                }
            }
        }
        // The mutations must exercise all three outcomes, or this test proves little.
        #expect(outcomes.count == 3, "\(outcomes)")
        #expect(outcomes.values.allSatisfy { $0 >= 100 }, "\(outcomes)")
    }
}
