import Foundation
import Testing

import SegmenterCore
@testable import SegmenterDaemon

/// Issue #14: one producer with a broken clock must not move everyone. Each test replays the same generated
/// stream with and without the untrusted events and compares every other customer's segment.
@Suite("untrusted event time through the replay engine")
struct UntrustedEventTimeTests {
    static let year2100: Int64 = 4_102_444_800_000

    struct Outcome {
        var segments: [String: Int]
        var timerChanges: Int
        var clamped: UInt64
    }

    func replay(_ events: [Event], limits: EventTimeLimits = .init(), in directory: URL) throws -> Outcome {
        let path = directory.appendingPathComponent("events-\(UUID().uuidString.prefix(6)).ndjson").path
        try events.map { $0.jsonLine() + "\n" }.joined().write(toFile: path, atomically: false, encoding: .utf8)
        // The online model, whose centers follow events: what these tests compare is where clamped events land, not
        // how a refinement over every customer answers to them.
        var configuration = SegmentationConfiguration.online()
        configuration.kmeans.initSample = 300
        configuration.eventTime = limits
        var timerChanges = 0
        let replay = Replay(
            options: .init(input: path, segmentation: configuration),
            onChange: { if $0.cause == .timer { timerChanges += 1 } })
        let summary = try replay.run()
        #expect(summary.invalid == 0)
        var segments: [String: Int] = [:]
        for record in replay.customers { segments[record.customerID] = record.segmentID }
        return Outcome(segments: segments, timerChanges: timerChanges, clamped: replay.segmentation.clampedEvents)
    }

    func stream() -> [Event] {
        Array(SyntheticShoppers(customers: 600, events: 12_000, seed: 14))
    }

    /// Customers other than `excluded` whose final segment differs between the two outcomes.
    func moved(_ a: Outcome, _ b: Outcome, excluding excluded: Set<String>) -> [String] {
        a.segments.keys.filter { !excluded.contains($0) && a.segments[$0] != b.segments[$0] }.sorted()
    }

    func withBrokenClock(_ events: [Event], at positions: [Int], time: (Int) -> Int64) -> ([Event], Set<String>) {
        var events = events
        var customers: Set<String> = []
        for (n, position) in positions.enumerated().reversed() {
            var broken = events[position]
            broken.eventID = "broken-\(n)"
            broken.timestamp = time(n)
            customers.insert(broken.customerID)
            events.insert(broken, at: position + 1)
        }
        return (events, customers)
    }

    @Test("one event stamped in the year 2100 changes nobody else's segment")
    func oneFarFutureEvent() throws {
        try withTemporaryDirectory { directory in
            let events = stream()
            let baseline = try replay(events, in: directory)
            let (broken, customers) = withBrokenClock(events, at: [events.count / 2]) { _ in Self.year2100 }
            let guarded = try replay(broken, in: directory)
            #expect(guarded.clamped == 1)
            #expect(moved(baseline, guarded, excluding: customers) == [])
            #expect(abs(guarded.timerChanges - baseline.timerChanges) <= 2, "no wave of timer moves")
            // The same stream with the limits off shows what the test guards against.
            let unguarded = try replay(broken, limits: .init(maxLeadMilliseconds: nil, maxLagMilliseconds: nil),
                                       in: directory)
            #expect(moved(baseline, unguarded, excluding: customers).count > 100)
        }
    }

    /// Forty extra events are forty more vectors the model learns from, and that alone can tip a customer near a
    /// boundary (the control shows it: the same burst at sane times). So the burst is held to the control: stamped in
    /// 2100, it must move nobody whom the same events at their real times would not move.
    @Test("a burst of far-future events changes nobody else's segment beyond what the same events at sane times do")
    func burstOfFarFutureEvents() throws {
        try withTemporaryDirectory { directory in
            let events = stream()
            let baseline = try replay(events, in: directory)
            let positions = Array(stride(from: events.count / 3, to: events.count / 3 + 40, by: 1))
            let (broken, customers) = withBrokenClock(events, at: positions) { Self.year2100 + Int64($0) * 1_000 }
            let guarded = try replay(broken, in: directory)
            #expect(guarded.clamped == 40)
            let (control, _) = withBrokenClock(events, at: positions) { events[positions[$0]].timestamp }
            let sane = try replay(control, in: directory)
            #expect(sane.clamped == 0)
            #expect(moved(sane, guarded, excluding: customers) == [], "the year 2100 moves nobody the burst does not")
            #expect(moved(baseline, guarded, excluding: customers).count <= 3)
            let unguarded = try replay(broken, limits: .init(maxLeadMilliseconds: nil, maxLagMilliseconds: nil),
                                       in: directory)
            #expect(moved(baseline, unguarded, excluding: customers).count > 100)
        }
    }

    @Test("events stamped at the epoch (1970) change nobody else's segment")
    func farPastEvents() throws {
        try withTemporaryDirectory { directory in
            let events = stream()
            let baseline = try replay(events, in: directory)
            let positions = [events.count / 4, events.count / 2, events.count / 2 + 1, 3 * events.count / 4]
            let (broken, customers) = withBrokenClock(events, at: positions) { _ in 0 }
            let guarded = try replay(broken, in: directory)
            #expect(guarded.clamped == 4)
            #expect(moved(baseline, guarded, excluding: customers) == [])
        }
    }
}
