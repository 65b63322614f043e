import Foundation
import Testing

@testable import SegmenterCore

private typealias F = InputPresetFixtures

@Suite("input presets: rejections")
struct InputPresetRejectionTests {
    static let presets: [InputFormat] = [.segment, .ga4, .snowplow]

    @Test("every fixture decodes as it is, with its preset and with auto", arguments: presets)
    func fixturesDecode(format: InputFormat) throws {
        let event = try F.event(F.message(format), format)
        #expect(event.customerID == "c-1")
        #expect(try F.event(F.message(format), .auto) == event)
    }

    @Test("a boolean at any preset field path is rejected, naming that path", arguments: presets)
    func wrongTypeEverywhere(format: InputFormat) throws {
        let tree = try F.tree(F.message(format))
        for path in F.paths(format) {
            let broken = try F.json(F.replacing(path, in: tree, with: true))
            for decoder in [EventDecoder(format: format), EventDecoder(format: .auto)] {
                let rejection = decoder.decode(Array(broken.utf8)).rejection
                #expect(rejection?.message.hasPrefix("field \"\(path)\" must be ") == true,
                        "\(format) \(path): \(rejection?.description ?? "accepted")")
                #expect(rejection?.isDeadLetter == true)
            }
        }
    }

    @Test("a string where a number belongs, and a number where a string belongs, name the path",
          arguments: presets)
    func swappedTypes(format: InputFormat) throws {
        let tree = try F.tree(F.message(format))
        var checked = 0
        for path in F.paths(format) {
            let original = Self.value(at: path, in: tree)
            let wrong: Any
            switch original {
            // Times also take epoch milliseconds and session ids also take numbers: a number is right there.
            case is String where !Self.takesNumbers.contains(where: path.hasSuffix): wrong = 7
            case is NSNumber, is Int, is Double: wrong = "seven"
            default: continue
            }
            checked += 1
            let broken = try F.json(F.replacing(path, in: tree, with: wrong))
            let rejection = EventDecoder(format: format).decode(Array(broken.utf8)).rejection
            #expect(rejection?.message.hasPrefix("field \"\(path)\" must be ") == true,
                    "\(format) \(path): \(rejection?.description ?? "accepted")")
        }
        #expect(checked > 10)
    }

    @Test("customer ids: empty or over 256 bytes is invalid_customer_id, naming the field")
    func customerIDs() throws {
        let long = String(repeating: "x", count: 257)
        for (format, field) in [(InputFormat.segment, "userId"), (.ga4, "user_id"), (.snowplow, "user_id")] {
            let broken = try F.json(F.replacing(field, in: F.tree(F.message(format)), with: long))
            let rejection = EventDecoder(format: format).decode(Array(broken.utf8)).rejection
            #expect(rejection?.code == .invalidCustomerID)
            #expect(rejection?.message.hasPrefix("field \"\(field)\" is 257 bytes") == true)
        }
        let anonymousEmpty = try F.json(F.replacing("anonymousId", in: F.replacing(
            "userId", in: F.tree(F.segment), with: nil), with: ""))
        #expect(EventDecoder(format: .segment).decode(Array(anonymousEmpty.utf8)).rejection?.message
            == "field \"anonymousId\" is empty: every event must name its customer")
    }

    @Test("bad times name the field: not RFC 3339, a fractional GA4 microsecond count, out of range")
    func badTimes() throws {
        let segment = try F.json(F.replacing("timestamp", in: F.tree(F.segment), with: "yesterday"))
        #expect(EventDecoder(format: .segment).decode(Array(segment.utf8)).rejection?.message
            == "field \"timestamp\" = \"yesterday\" is not RFC 3339 (2026-03-01T12:00:00Z) or epoch milliseconds")
        let fraction = try F.json(F.replacing("event_timestamp", in: F.tree(F.ga4), with: 1.5))
        #expect(EventDecoder(format: .ga4).decode(Array(fraction.utf8)).rejection?.message
            == "field \"event_timestamp\" must be a whole number (or a string of digits), not a fraction")
        let huge = try F.json(F.replacing("event_timestamp", in: F.tree(F.ga4), with: "900000000000000000"))
        #expect(EventDecoder(format: .ga4).decode(Array(huge.utf8)).rejection?.code == .invalidTimestamp)
    }

    @Test("JSON syntax errors, size limits and non-objects are rejected as for native events", arguments: presets)
    func nativeRules(format: InputFormat) throws {
        let decoder = EventDecoder(maxMessageBytes: 2_000, format: format)
        let message = F.message(format)
        #expect(decoder.decode(Array(message.dropLast().utf8)).rejection?.code == .invalidJSON)
        #expect(decoder.decode(Array("[1,2]".utf8)).rejection?.code == .notAnObject)
        #expect(decoder.decode(Array((message + " x").utf8)).rejection?.code == .invalidJSON)
        let padded = message.dropLast() + ",\"pad\":\"" + String(repeating: " ", count: 2_000) + "\"}"
        #expect(decoder.decode(Array(padded.utf8)).rejection?.code == .tooLarge)
        let nonFinite = message.replacingOccurrences(of: ":100", with: ":1e999")
        #expect(decoder.decode(Array(nonFinite.utf8)).rejection?.code == .nonFiniteNumber)
    }

    @Test("auto: a message with no deciding field is unknown_format; a syntax error still wins")
    func autoUnknown() {
        let auto = EventDecoder(format: .auto)
        #expect(auto.decode(Array(#"{"type":"purchase","timestamp":"2026-03-01T12:00:00Z"}"#.utf8)).rejection?.code
            == .unknownFormat)
        #expect(auto.decode(Array(#"{"type":"purchase" "x"}"#.utf8)).rejection?.code == .invalidJSON)
        #expect(auto.decode(Array(#"{"type":"purchase"} x"#.utf8)).rejection?.code == .invalidJSON)
        #expect(auto.decode(Array("42".utf8)).rejection?.code == .notAnObject)
    }

    @Test("every valid schema example decodes (or is skipped), every invalid one is dead-lettered",
          arguments: presets)
    func schemaExamples(format: InputFormat) throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("schemas/examples/\(format.rawValue)-event")
        for kind in ["valid", "invalid"] {
            let directory = folder.appendingPathComponent(kind)
            let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
                .filter { $0.hasSuffix(".json") }
            #expect(files.count >= 4)
            for file in files {
                let bytes = try [UInt8](Data(contentsOf: directory.appendingPathComponent(file)))
                let result = EventDecoder(format: format).decode(bytes)
                let deadLetter = result.rejection?.isDeadLetter ?? false
                #expect(deadLetter == (kind == "invalid"),
                        "\(kind)/\(file): \(result.rejection?.description ?? "accepted")")
            }
        }
    }

    private static let takesNumbers = ["stamp", "Timestamp", "receivedAt", "sessionId"]

    private static func value(at path: String, in tree: Any) -> Any? {
        var node: Any? = tree
        for part in path.split(separator: ".") {
            let pieces = part.split(separator: "[")
            node = (node as? [String: Any])?[String(pieces[0])]
            for index in pieces.dropFirst() { node = (node as? [Any])?[Int(index.dropLast())!] }
        }
        return node
    }
}
