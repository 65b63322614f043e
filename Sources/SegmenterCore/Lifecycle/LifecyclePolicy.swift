import Foundation

/// Decides a customer's ``LifecycleStage`` from their summary, the fitted model and the time, and when time alone
/// will next change it (where the engine sets a timer). A customer is `new` while they have a single active day
/// and their first activity is less than ``newForDays`` old; otherwise `lapsed` when p_alive is below
/// ``lapsedBelow``, `atRisk` when below ``atRiskBelow``, else `active`. p_alive only falls while no activity comes,
/// so time alone moves a customer only forward: new → active → at risk → lapsed (skipping stages is possible).
public struct LifecyclePolicy: Sendable, Hashable, Codable {
    static let dayMs = 86_400_000.0

    /// How long (days) a customer with a single active day stays `new`. Default: 7.
    public var newForDays: Double
    /// p_alive below which a customer is at risk. Default: 0.5.
    public var atRiskBelow: Double
    /// p_alive below which a customer is lapsed. Default: 0.2.
    public var lapsedBelow: Double

    public init(newForDays: Double = 7, atRiskBelow: Double = 0.5, lapsedBelow: Double = 0.2) {
        self.newForDays = newForDays
        self.atRiskBelow = atRiskBelow
        self.lapsedBelow = lapsedBelow
    }

    /// The error of the first setting that makes no sense, or nil.
    public func validationError() -> String? {
        if !(newForDays >= 0) {
            return "lifecycle.new_for_days is \(newForDays): give a number of days of 0 or more (default 7)."
        }
        guard lapsedBelow > 0, lapsedBelow <= atRiskBelow, atRiskBelow < 1 else {
            return "lifecycle thresholds lapsed_below \(lapsedBelow) and at_risk_below \(atRiskBelow) must satisfy "
                + "0 < lapsed_below ≤ at_risk_below < 1: set them so (defaults 0.2 and 0.5)."
        }
        return nil
    }

    /// The stage at `now` (epoch ms); nil for a customer with no activity.
    public func stage(_ summary: ActivitySummary, model: LifecycleModel, at now: Int64) -> LifecycleStage? {
        guard let pAlive = model.pAlive(summary, at: now) else { return nil }
        if summary.activeDays == 1, now < newUntil(summary) {
            return .new
        }
        return pAlive < lapsedBelow ? .lapsed : pAlive < atRiskBelow ? .atRisk : .active
    }

    /// The first instant (epoch ms) after `now` at which time alone changes the stage, or nil when it never does.
    /// At that millisecond ``stage(_:model:at:)`` already gives the new stage, and one millisecond before it the
    /// old one.
    public func nextStageChange(_ summary: ActivitySummary, model: LifecycleModel, at now: Int64) -> Int64? {
        guard let current = stage(summary, model: model, at: now) else { return nil }
        switch current {
        case .new:
            return newUntil(summary)
        case .active:
            return crossing(atRiskBelow, summary, model, after: now)
        case .atRisk:
            return crossing(lapsedBelow, summary, model, after: now)
        case .lapsed:
            return nil
        }
    }

    private func newUntil(_ summary: ActivitySummary) -> Int64 {
        summary.firstActivityAt.addingReportingOverflow(Int64((newForDays * Self.dayMs).rounded(.up))).partialValue
    }

    /// The first millisecond after `now` at which p_alive is below `threshold`: the model's closed form, then
    /// corrected by a few steps so that it agrees with p_alive as evaluated (rounding of the closed form).
    private func crossing(
        _ threshold: Double, _ summary: ActivitySummary, _ model: LifecycleModel, after now: Int64
    ) -> Int64? {
        let x = Double(summary.activeDays) - 1
        let recency = Double(summary.lastActivityAt - summary.firstActivityAt) / Self.dayMs
        guard let age = model.activity.ageWhenPAliveReaches(threshold, repeatDays: x, recency: recency) else {
            return nil
        }
        let instant = (Double(summary.firstActivityAt) + age * Self.dayMs).rounded(.up)
        guard instant.isFinite, instant < 9e18 else { return nil }
        func below(_ t: Int64) -> Bool {
            (model.pAlive(summary, at: t) ?? 1) < threshold
        }
        // The closed form is off by a rounding error at most; the bound only guards against a model gone wrong.
        var t = max(now + 1, Int64(instant))
        var steps = 0
        while steps < 1_000, t > now + 1, below(t - 1) {
            t -= 1
            steps += 1
        }
        while steps < 2_000, !below(t) {
            t += 1
            steps += 1
        }
        return t
    }
}
