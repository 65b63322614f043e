import Foundation
import Testing

@testable import SegmenterCore

@Suite("input presets: the generator's stream means the same in every format")
struct InputPresetStreamTests {
    static let presets: [InputFormat] = [.segment, .ga4, .snowplow]
    static let native = Array(SyntheticShoppers(customers: 240, events: 24_000, seed: 15))

    /// Features per customer after applying `events` in order (duplicates by event id skipped, as the core does),
    /// at the stream's last event time.
    static func features(_ events: [Event]) -> [String: [Double]] {
        let layout = FeatureLayout(spec: .ecommerce())
        var states: [String: CustomerState] = [:]
        for event in events {
            var state = states[event.customerID] ?? CustomerState(layout: layout)
            if event.eventID.map({ state.rememberEventID($0) }) ?? true { state.apply(event, layout: layout) }
            states[event.customerID] = state
        }
        let watermark = events.map(\.timestamp).max() ?? 0
        return states.mapValues { state in
            var values: [Double] = []
            state.features(at: watermark, layout: layout, into: &values)
            return values
        }
    }

    static func decodeAll(_ lines: [String], _ format: InputFormat) throws -> [Event] {
        let decoder = EventDecoder(format: format)
        return try lines.map { line in
            switch decoder.decode(Array(line.utf8)) {
            case .success(let event): return event
            case .failure(let rejection): throw rejection
            }
        }
    }

    @Test("same customers and the same count, money and recency features, feature by feature",
          arguments: presets)
    func sameFeatures(format: InputFormat) throws {
        let lines = Self.native.map { $0.jsonLine(format: format) }
        let decoded = try Self.decodeAll(lines, format)
        let expected = Self.features(Self.native)
        let actual = Self.features(decoded)
        #expect(Set(actual.keys) == Set(expected.keys))
        let names = FeatureSpec.ecommerce().features.map(\.name)
        // Snowplow's enriched event has no device class outside the YAUAA entity, which the preset does not read.
        let compared = names.filter { format != .snowplow || $0 != "mobile_share" }
        #expect(compared.count >= names.count - 1)
        var differences: [String] = []
        for (customer, values) in expected {
            guard let other = actual[customer] else { continue }
            for (index, name) in names.enumerated() where compared.contains(name) && values[index] != other[index] {
                differences.append("\(customer) \(name): native \(values[index]), \(format) \(other[index])")
            }
        }
        #expect(differences.isEmpty, "\(differences.count) differences, e.g. \(differences.prefix(5))")
    }

    @Test("every decoded event keeps the native type, customer, time, session, money and category",
          arguments: presets)
    func sameEvents(format: InputFormat) throws {
        let decoded = try Self.decodeAll(Self.native.map { $0.jsonLine(format: format) }, format)
        let nativeSessionStart: EventType = format == .ga4 ? .sessionStart : .other
        for (original, event) in zip(Self.native, decoded) {
            #expect(event.type == (original.type == .sessionStart ? nativeSessionStart : original.type))
            #expect(event.customerID == original.customerID && event.timestamp == original.timestamp)
            #expect(event.sessionID == original.sessionID && event.category == original.category)
            #expect(event.eventID == (format == .ga4 ? nil : original.eventID))
            #expect(event.quantity == original.quantity)
            if let value = original.value {
                #expect(abs(event.value! - value) <= 1e-9 * max(1, abs(value)))
            } else {
                #expect(event.value == nil)
            }
            if original.type == .purchase { #expect(event.value == original.value) }
        }
    }

    @Test("auto picks the right preset for every message of a mixed stream")
    func autoMixed() throws {
        let formats: [InputFormat] = [.native, .segment, .ga4, .snowplow]
        let auto = EventDecoder(format: .auto)
        for (index, event) in Self.native.prefix(4_000).enumerated() {
            let format = formats[index % formats.count]
            let line = Array(event.jsonLine(format: format).utf8)
            #expect(auto.decode(line) == EventDecoder(format: format).decode(line), "\(format) line \(index)")
        }
    }
}
