import Foundation
import Testing

import SegmenterCore
@testable import SegmenterDaemon

/// Writes `events` generated events of `customers` customers to a temporary NDJSON file, in `format`'s shape.
func generatedEventsFile(customers: Int, events: Int, seed: UInt64, in directory: URL, format: InputFormat = .native)
    throws -> (path: String, truth: [String: Persona])
{
    var generator = SyntheticShoppers(customers: customers, events: events, seed: seed)
    var text = ""
    text.reserveCapacity(events * 240)
    while let event = generator.next() {
        text += event.jsonLine(format: format)
        text += "\n"
    }
    let path = directory.appendingPathComponent("events-\(seed)-\(format.rawValue).ndjson").path
    try text.write(toFile: path, atomically: false, encoding: .utf8)
    let truth = Dictionary(uniqueKeysWithValues: generator.truth.map { ($0.customerID, $0.persona) })
    return (path, truth)
}

func withTemporaryDirectory<R>(_ body: (URL) throws -> R) throws -> R {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("segmenter-daemon-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try body(directory)
}

/// Normalised mutual information (arithmetic mean normalisation) between two labelings of the same items.
func normalisedMutualInformation<A: Hashable, B: Hashable>(_ pairs: [(A, B)]) -> Double {
    let n = Double(pairs.count)
    var a: [A: Double] = [:], b: [B: Double] = [:]
    var joint: [String: (A, B, Double)] = [:]
    for (x, y) in pairs {
        a[x, default: 0] += 1
        b[y, default: 0] += 1
        let key = "\(x)|\(y)"
        joint[key] = (x, y, (joint[key]?.2 ?? 0) + 1)
    }
    func entropy(_ counts: some Collection<Double>) -> Double {
        -counts.reduce(0) { $0 + ($1 / n) * log($1 / n) }
    }
    var mutual = 0.0
    for (_, (x, y, count)) in joint {
        let p = count / n
        mutual += p * log(p / ((a[x]! / n) * (b[y]! / n)))
    }
    let mean = (entropy(a.values) + entropy(b.values)) / 2
    return mean > 0 ? mutual / mean : 0
}

@Suite("replay")
struct ReplayTests {
    @Test("replay's segments of 20k generated customers match their true personas: NMI ≥ 0.7")
    func segmentsMatchPersonas() throws {
        try withTemporaryDirectory { directory in
            let input = try generatedEventsFile(customers: 20_000, events: 2_000_000, seed: 11, in: directory)
            var configuration = SegmentationConfiguration()
            configuration.kmeans.k = Persona.allCases.count
            let replay = Replay(options: .init(input: input.path, segmentation: configuration))
            let summary = try replay.run()
            #expect(summary.applied == 2_000_000)
            #expect(summary.invalid == 0)
            let pairs = replay.customers.map { (input.truth[$0.customerID]!, $0.segmentID ?? -1) }
            #expect(pairs.allSatisfy { $0.1 != -1 }, "every customer with a valid event ends up in a segment")
            let nmi = normalisedMutualInformation(pairs)
            #expect(nmi >= 0.7, "NMI \(nmi)")
        }
    }

    @Test("the same input and seed give byte-identical assignments and changes, timers included")
    func deterministic() throws {
        try withTemporaryDirectory { directory in
            let input = try generatedEventsFile(customers: 2_000, events: 100_000, seed: 3, in: directory)
            func run() throws -> (String, String) {
                var changes = ""
                let replay = Replay(options: .init(input: input.path, segmentation: .init())) {
                    changes += $0.jsonLine(emittedAt: $0.at) + "\n"
                }
                _ = try replay.run()
                let assignments = replay.customers.map { "\($0.customerID),\($0.segmentID ?? -1)" }
                    .joined(separator: "\n")
                return (assignments, changes)
            }
            let first = try run()
            let second = try run()
            #expect(first.1.contains(#""cause":"timer""#), "the stream has timer changes, and they are repeated too")
            #expect(first.0 == second.0)
            #expect(first.1 == second.1)
        }
    }

    @Test("bad lines are counted with their line numbers and reasons and never stop the run")
    func badLinesAreReported() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("mixed.ndjson").path
            let good = #"{"customer_id":"c-1","type":"page_view","timestamp":"2026-03-01T12:00:00Z"}"#
            let lines = [good, "not json", #"{"type":"search","timestamp":1}"#, good, "", #"[1,2]"#]
            try lines.joined(separator: "\n").write(toFile: path, atomically: false, encoding: .utf8)
            let summary = try Replay(options: .init(input: path, segmentation: .init())).run()
            #expect(summary.applied == 2)
            #expect(summary.invalid == 3)
            #expect(summary.firstBadLines.map(\.line) == [2, 3, 6])
            #expect(summary.firstBadLines[1].reason.code == .missingField)
            #expect(summary.firstBadLines[1].reason.message.contains("customer_id"))
        }
    }

    @Test("a replay of the stream in a preset's shape gives the native replay's customers and changes",
          arguments: [InputFormat.segment, .ga4, .snowplow, .auto])
    func presetsReplayLikeNative(format: InputFormat) throws {
        try withTemporaryDirectory { directory in
            func run(_ file: InputFormat) throws -> (Replay.Summary, [String], String) {
                let input = try generatedEventsFile(
                    customers: 500, events: 40_000, seed: 5, in: directory, format: file)
                var segmentation = SegmentationConfiguration()
                segmentation.inputFormat = file == .native ? .native : format
                var changes = ""
                let replay = Replay(options: .init(input: input.path, segmentation: segmentation)) {
                    changes += $0.jsonLine(emittedAt: $0.at) + "\n"
                }
                return (try replay.run(), replay.customers.map(\.customerID), changes)
            }
            let native = try run(.native)
            let preset = try run(format == .auto ? .segment : format)
            #expect(preset.0.applied == 40_000 && preset.0.invalid == 0)
            #expect(preset.1 == native.1)
            if format == .ga4 {
                // GA4 rows have no event id, so no change names its trigger.
                let untriggered = native.2.replacingOccurrences(
                    of: #""trigger_event_id":"e-[0-9]+""#, with: #""trigger_event_id":null"#, options: .regularExpression)
                #expect(preset.2 == untriggered)
            } else if format != .snowplow {
                // Snowplow carries no device class, so mobile_share (and with it the segments) differ.
                #expect(preset.2 == native.2)
            }
        }
    }
}
