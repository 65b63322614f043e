import Testing

@testable import SegmenterCore

@Suite("event time that cannot be trusted")
struct EventTimeLimitsTests {
    static let hour: Int64 = 3_600_000
    static let day: Int64 = 86_400_000
    static let start: Int64 = 1_767_225_600_000

    /// A segmentation that has seen customer c-1's page views once a minute for 20 minutes from `start`.
    static func twentyMinutesOfPageViews() -> (Segmentation, CustomerRecord) {
        var segmentation = Segmentation(configuration: SegmentationConfiguration())
        var record = segmentation.newRecord(customerID: "c-1", partition: 0)
        for i in 0..<20 {
            _ = segmentation.apply(
                Event(customerID: "c-1", type: .pageView, timestamp: start + Int64(i) * 60_000), to: &record)
        }
        return (segmentation, record)
    }

    @Test("the median of recent event times follows the window and ignores a minority of outliers")
    func recentMedian() {
        var recent = RecentEventTimes(capacity: 5)
        #expect(recent.median == nil)
        for time in [10, 20, 30, 40, 50] as [Int64] { recent.insert(time) }
        #expect(recent.median == 30)
        recent.insert(4_000_000_000_000)
        recent.insert(4_000_000_000_000)
        #expect(recent.median == 50, "two outliers in a window of five leave the median at an ordinary time")
        #expect(recent.inArrivalOrder == [30, 40, 50, 4_000_000_000_000, 4_000_000_000_000])
        let restored = RecentEventTimes(capacity: 5, times: recent.inArrivalOrder)
        #expect(restored.inArrivalOrder == recent.inArrivalOrder)
        #expect(restored.median == recent.median)
    }

    @Test("an event far ahead of the stream is applied at the watermark and counted; the watermark stays")
    func futureEventIsClamped() {
        var (segmentation, record) = Self.twentyMinutesOfPageViews()
        let year2100: Int64 = 4_102_444_800_000
        _ = segmentation.apply(Event(customerID: "c-1", type: .purchase, timestamp: year2100, value: 10), to: &record)
        #expect(segmentation.clampedAhead == 1)
        #expect(segmentation.clampedEvents == 1)
        #expect(segmentation.watermark == Self.start + 19 * 60_000, "the watermark does not move")
        #expect(record.state.lastEventAt == segmentation.watermark, "the event is applied at the watermark")
        #expect(record.eventCount == 21)
    }

    @Test("an event far behind the stream is applied at the allowed lag and counted")
    func pastEventIsClamped() {
        var (segmentation, _) = Self.twentyMinutesOfPageViews()
        var other = segmentation.newRecord(customerID: "c-2", partition: 0)
        _ = segmentation.apply(Event(customerID: "c-2", type: .pageView, timestamp: 0), to: &other)
        #expect(segmentation.clampedBehind == 1)
        #expect(other.state.lastEventAt >= Self.start - 366 * Self.day)
        let watermark = segmentation.watermark
        #expect(watermark == Self.start + 19 * 60_000, "a past event never moves the watermark")
    }

    @Test("a wall clock, when supplied, caps event times at the wall clock plus the lead")
    func wallClockCapsTheLead() {
        var segmentation = Segmentation(configuration: SegmentationConfiguration())
        var record = segmentation.newRecord(customerID: "c-1", partition: 0)
        let now = Self.start + 1_000 * Self.day
        for i in 0..<5 {
            _ = segmentation.apply(Event(customerID: "c-1", type: .pageView, timestamp: now - Int64(i)),
                                   to: &record, wallClock: now)
        }
        _ = segmentation.apply(Event(customerID: "c-1", type: .pageView, timestamp: now + 2 * Self.day),
                               to: &record, wallClock: now)
        #expect(segmentation.clampedAhead == 1, "two days ahead of the wall clock is distrusted")
        #expect(segmentation.watermark == now)
        _ = segmentation.apply(Event(customerID: "c-1", type: .pageView, timestamp: now + Self.hour),
                               to: &record, wallClock: now)
        #expect(segmentation.clampedAhead == 1, "an hour ahead is within the lead")
        #expect(segmentation.watermark == now + Self.hour)
    }

    @Test("with the limits switched off every event time is trusted")
    func limitsOff() {
        var configuration = SegmentationConfiguration()
        configuration.eventTime = EventTimeLimits(maxLeadMilliseconds: nil, maxLagMilliseconds: nil)
        var segmentation = Segmentation(configuration: configuration)
        var record = segmentation.newRecord(customerID: "c-1", partition: 0)
        for time in [Self.start, Self.start + 1, 4_102_444_800_000, 0] {
            _ = segmentation.apply(Event(customerID: "c-1", type: .pageView, timestamp: time), to: &record)
        }
        #expect(segmentation.clampedEvents == 0)
        #expect(segmentation.watermark == 4_102_444_800_000)
    }

    @Test("recent event times and clamp counts survive a snapshot; older snapshots without them still load")
    func snapshotRoundTrip() throws {
        var segmentation = Segmentation(configuration: SegmentationConfiguration())
        var record = segmentation.newRecord(customerID: "c-1", partition: 0)
        for i in 0..<30 {
            _ = segmentation.apply(Event(customerID: "c-1", type: .pageView, timestamp: Self.start + Int64(i)),
                                   to: &record)
        }
        _ = segmentation.apply(Event(customerID: "c-1", type: .pageView, timestamp: .max / 2), to: &record)
        let restored = try Segmentation(
            configuration: segmentation.configuration,
            snapshot: SegmentationSnapshot.decode(segmentation.snapshot().encoded()))
        #expect(restored.recentEventTimes.inArrivalOrder == segmentation.recentEventTimes.inArrivalOrder)
        #expect(restored.clampedAhead == 1)

        var old = segmentation.snapshot()
        old.recentEventTimes = nil
        old.clampedAhead = nil
        old.clampedBehind = nil
        let legacy = try Segmentation(
            configuration: segmentation.configuration, snapshot: SegmentationSnapshot.decode(old.encoded()))
        #expect(legacy.clampedEvents == 0)
        #expect(legacy.recentEventTimes.median == nil)
        #expect(legacy.watermark == segmentation.watermark)
    }

    @Test("limits that make no sense are reported with their configuration field")
    func problems() {
        let limits = EventTimeLimits(maxLeadMilliseconds: 0, maxLagMilliseconds: -1, window: 0)
        let text = limits.problems().joined(separator: "\n")
        #expect(text.contains("model.max_event_lead_hours"))
        #expect(text.contains("model.max_event_lag_days"))
        #expect(text.contains("model.event_time_window"))
    }
}
