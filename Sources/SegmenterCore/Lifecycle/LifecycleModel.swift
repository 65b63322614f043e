/// The fitted lifecycle and prediction model, a value stored with the segmentation model: a repeat-activity model
/// (``RepeatActivityModel``) over active days, a spend model (``SpendModel``) over purchase days, the population's
/// share of active days with a purchase, and RFM cut points. Fitting is a pure function of the sample and `now`.
public struct LifecycleModel: Sendable, Hashable, Codable {
    /// Pseudo-days of population behaviour added to a customer's own when estimating their purchase share, so
    /// that one day of browsing does not make their expected orders zero. Default: 2.
    public static let purchaseShareShrinkageDays = 2.0

    public var activity: RepeatActivityModel
    /// Nil when the sample had no customer with a valued repeat purchase day; revenue is then predicted as 0.
    public var spend: SpendModel?
    /// Purchase days / active days over the sample.
    public var purchaseShare: Double
    public var rfm: RFMScale

    public init(activity: RepeatActivityModel, spend: SpendModel?, purchaseShare: Double, rfm: RFMScale) {
        self.activity = activity
        self.spend = spend
        self.purchaseShare = purchaseShare
        self.rfm = rfm
    }

    /// Fits every part on `samples` (a bounded sample of stored customers' summaries) as of `now` (epoch ms).
    /// Customers without activity are ignored. Nil when none has any, or the likelihood could not be maximised.
    public static func fit(
        samples: [ActivitySummary], at now: Int64, variant: RepeatActivityModel.Variant = .mbgnbd
    ) -> LifecycleModel? {
        let observations = samples.compactMap { RepeatActivityObservation($0, at: now) }
        guard let activity = RepeatActivityModel.fit(observations, variant: variant) else { return nil }
        let spend = SpendModel.fit(samples.compactMap { s in
            s.averageRepeatValue.map { (Double(s.repeatValueDays), $0) }
        })
        let activeDays = samples.reduce(0.0) { $0 + Double($1.activeDays) }
        let purchaseDays = samples.reduce(0.0) { $0 + Double($1.purchaseDays) }
        return LifecycleModel(
            activity: activity, spend: spend, purchaseShare: activeDays > 0 ? purchaseDays / activeDays : 0,
            rfm: RFMScale(sample: samples, at: now))
    }

    /// Probability that the customer is alive at `now`; nil for a customer with no activity.
    public func pAlive(_ summary: ActivitySummary, at now: Int64) -> Double? {
        RepeatActivityObservation(summary, at: now).map(activity.pAlive)
    }

    /// The customer's share of active days with a purchase, shrunk toward the population's.
    public func purchaseShare(of summary: ActivitySummary) -> Double {
        let k = Self.purchaseShareShrinkageDays
        return (Double(summary.purchaseDays) + k * purchaseShare) / (Double(summary.activeDays) + k)
    }

    /// p_alive, expected orders, value and revenue over the next `horizonDays` days as of `now`; nil for a
    /// customer with no activity.
    public func prediction(_ summary: ActivitySummary, at now: Int64, horizonDays: Double) -> CustomerPrediction? {
        guard let o = RepeatActivityObservation(summary, at: now) else { return nil }
        let orders = activity.expectedActiveDays(horizon: horizonDays, o) * purchaseShare(of: summary)
        let value = spend?.expectedAverageValue(summary) ?? 0
        return CustomerPrediction(
            pAlive: activity.pAlive(o), expectedOrders: orders, expectedAverageValue: value,
            expectedRevenue: orders * value)
    }

    /// RFM scores of the customer at `now`; nil for a customer with no activity.
    public func rfmScores(_ summary: ActivitySummary, at now: Int64) -> RFMScores? {
        rfm.scores(summary, at: now)
    }
}
