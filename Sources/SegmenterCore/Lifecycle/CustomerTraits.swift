import Foundation

/// What the lifecycle model says about one customer at one time: their stage, predictions over the configured
/// horizon and RFM scores. Each is nil when there is no fitted model yet or the customer has no activity. Export,
/// replay's `--customers-out` and the HTTP API show these same values.
public struct CustomerTraits: Sendable, Hashable {
    public var lifecycle: LifecycleStage?
    public var prediction: CustomerPrediction?
    public var rfm: RFMScores?

    public init(lifecycle: LifecycleStage? = nil, prediction: CustomerPrediction? = nil, rfm: RFMScores? = nil) {
        self.lifecycle = lifecycle
        self.prediction = prediction
        self.rfm = rfm
    }

    /// The traits of `summary` at `now` (epoch ms) under `model`, with `policy` and a horizon of `horizonDays`.
    public init(
        _ summary: ActivitySummary, model: LifecycleModel?, policy: LifecyclePolicy, horizonDays: Double,
        at now: Int64
    ) {
        guard let model else {
            self.init()
            return
        }
        self.init(
            lifecycle: policy.stage(summary, model: model, at: now),
            prediction: model.prediction(summary, at: now, horizonDays: horizonDays),
            rfm: model.rfmScores(summary, at: now))
    }

    /// The traits as JSON members, `"lifecycle":…,"predictions":{…},"rfm":{…}`, each null when unknown. Numbers
    /// are written with six significant digits, as features are; a non-finite one is null.
    public var jsonMembers: String {
        var out = "\"lifecycle\":" + (lifecycle.map { "\"\($0.rawValue)\"" } ?? "null")
        out += ",\"predictions\":"
        if let p = prediction {
            out += "{\"p_alive\":\(Self.number(p.pAlive)),\"expected_orders\":\(Self.number(p.expectedOrders))"
            out += ",\"expected_revenue\":\(Self.number(p.expectedRevenue))}"
        } else {
            out += "null"
        }
        out += ",\"rfm\":" + (rfm.map { "{\"r\":\($0.r),\"f\":\($0.f),\"m\":\($0.m)}" } ?? "null")
        return out
    }

    static func number(_ value: Double) -> String {
        value.isFinite ? String(format: "%.6g", value) : "null"
    }
}
