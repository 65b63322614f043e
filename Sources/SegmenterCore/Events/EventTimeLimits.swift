/// How far an event's time may stray from the stream before it is distrusted (the `model.max_event_lead_hours`,
/// `model.max_event_lag_days` and `model.event_time_window` settings). One producer with a broken clock must not
/// move the watermark, and with it every customer's recency, to the year 2100 (issue #14).
public struct EventTimeLimits: Sendable, Hashable {
    /// How far an event may be ahead of the median of recent event times (and of the wall clock, when one is
    /// supplied) before its time is clamped; nil switches the check off. Default: 24 hours.
    public var maxLeadMilliseconds: Int64?
    /// How far an event may be behind that median before its time is clamped; nil switches the check off.
    /// Default: 365 days.
    public var maxLagMilliseconds: Int64?
    /// How many recent event times the median is taken over. A burst of distrusted events shorter than half of
    /// this cannot move the median. Default: 101.
    public var window: Int

    public init(
        maxLeadMilliseconds: Int64? = 24 * 3_600_000, maxLagMilliseconds: Int64? = 365 * 86_400_000,
        window: Int = 101
    ) {
        self.maxLeadMilliseconds = maxLeadMilliseconds
        self.maxLagMilliseconds = maxLagMilliseconds
        self.window = window
    }

    public func problems() -> [String] {
        var problems: [String] = []
        if let lead = maxLeadMilliseconds, lead <= 0 {
            problems.append("model.max_event_lead_hours: must be > 0 (or off)")
        }
        if let lag = maxLagMilliseconds, lag <= 0 {
            problems.append("model.max_event_lag_days: must be > 0 (or off)")
        }
        if !(1...10_001).contains(window) {
            problems.append("model.event_time_window: \(window) is out of range; use a value from 1 to 10001")
        }
        return problems
    }
}

extension EventTimeLimits {
    /// The time an event is applied at. An event more than the lead ahead of the median of `recent` (which must
    /// already hold the event's own time), or of `wallClock` when given, is applied at the stream's current time
    /// (`watermark`, never beyond the bound), so that it moves time for nobody; an event more than the lag behind
    /// the median is applied at that lower bound.
    func admit(_ time: Int64, recent: RecentEventTimes, watermark: Int64, wallClock: Int64?) -> Int64 {
        guard let median = recent.median else { return time }
        if let lead = maxLeadMilliseconds {
            var latest = median.addingReportingOverflow(lead).overflow ? .max : median + lead
            if let wallClock, !wallClock.addingReportingOverflow(lead).overflow {
                latest = min(latest, wallClock + lead)
            }
            if time > latest { return min(max(watermark, median), latest) }
        }
        if let lag = maxLagMilliseconds, !median.subtractingReportingOverflow(lag).overflow, time < median - lag {
            return median - lag
        }
        return time
    }
}
