import Foundation

/// A model of repeat activity of the BG/NBD family (Fader, Hardie & Lee 2005, "Counting your customers the easy
/// way"): while alive, a customer is active at a Poisson rate λ ~ Gamma(r, α); after each active day they drop out
/// with probability p ~ Beta(a, b). Time is in days, so α is in days (α in weeks is α / 7).
///
/// The default variant is MBG/NBD (Batislam, Denizel & Filiztekin 2007): a customer may also drop out right after
/// their first active day, so one-time customers are judged too (plain BG/NBD calls every one of them alive, which
/// makes `pAlive` useless for them). Plain BG/NBD is kept to check the fit against the paper.
public struct RepeatActivityModel: Sendable, Hashable, Codable {
    public enum Variant: String, Sendable, Hashable, Codable {
        /// BG/NBD as published: no dropout before the first repeat.
        case bgnbd
        /// MBG/NBD: dropout also possible at the first activity.
        case mbgnbd
    }

    public var variant: Variant
    public var r: Double
    /// Scale of the rate distribution, in days.
    public var alpha: Double
    public var a: Double
    public var b: Double

    public init(variant: Variant = .mbgnbd, r: Double, alpha: Double, a: Double, b: Double) {
        self.variant = variant
        self.r = r
        self.alpha = alpha
        self.a = a
        self.b = b
    }

    /// The dropout odds' denominator: b + x for MBG/NBD, b + x − 1 for BG/NBD (nil when BG/NBD has no repeat).
    func dropoutBase(_ x: Double) -> Double? {
        switch variant {
        case .mbgnbd: b + x
        case .bgnbd: x > 0 ? b + x - 1 : nil
        }
    }

    /// log of the odds "dropped out" : "alive" for `o`; nil when the model cannot have dropped them (BG/NBD, x = 0).
    func logDeadOdds(_ o: RepeatActivityObservation) -> Double? {
        guard let base = dropoutBase(o.repeatDays) else { return nil }
        return log(a) - log(base) + (r + o.repeatDays) * (log(alpha + o.age) - log(alpha + o.recency))
    }

    /// Probability that the customer is still alive (will be active again). It only falls as `age` grows without
    /// activity: the odds above grow with α + T.
    public func pAlive(_ o: RepeatActivityObservation) -> Double {
        guard let k = logDeadOdds(o) else { return 1 }
        return 1 / (1 + exp(k))
    }

    /// Expected number of active days in the next `horizon` days.
    public func expectedActiveDays(horizon: Double, _ o: RepeatActivityObservation) -> Double {
        guard horizon > 0 else { return 0 }
        let x = o.repeatDays
        let z = horizon / (alpha + o.age + horizon)
        let logDecay = (r + x) * (log(alpha + o.age) - log(alpha + o.age + horizon))
        let scale: Double, logHypDecay: Double
        switch variant {
        case .mbgnbd:
            scale = (a + b + x) / (a - 1)
            logHypDecay = SpecialFunctions.logHypergeometric2F1(r + x, b + x + 1, a + b + x, z, logFactor: logDecay)
        case .bgnbd:
            scale = (a + b + x - 1) / (a - 1)
            logHypDecay = SpecialFunctions.logHypergeometric2F1(r + x, b + x, a + b + x - 1, z, logFactor: logDecay)
        }
        return max(0, -scale * expm1(logHypDecay) * pAlive(o))
    }

    /// The age (days since the first activity) at which `pAlive` reaches `threshold` if no activity comes: the
    /// closed form of `pAlive(x, t_x, T) = threshold` solved for T. Nil when it never does (plain BG/NBD with no
    /// repeat) or for a threshold outside (0, 1).
    public func ageWhenPAliveReaches(_ threshold: Double, repeatDays x: Double, recency: Double) -> Double? {
        guard threshold > 0, threshold < 1, let base = dropoutBase(x) else { return nil }
        let logOdds = log(1 / threshold - 1)
        return (alpha + recency) * exp((logOdds - log(a) + log(base)) / (r + x)) - alpha
    }

    /// Log-likelihood of one observation (the paper's equation 6, and Batislam et al.'s for MBG/NBD); `common` and
    /// `logDropout` (log a − log of the dropout base) depend on x only, so a fit computes them once per x.
    func logLikelihood(_ o: RepeatActivityObservation, common: Double, logDropout: Double?) -> Double {
        let x = o.repeatDays
        let logOfAge = log(alpha + o.age), logOfRecency = log(alpha + o.recency)
        let survived = common - (r + x) * logOfAge
        guard let logDropout else { return survived }
        let k = logDropout + (r + x) * (logOfAge - logOfRecency)
        // log(e^survived + e^(survived + k)), without overflow for large k.
        return survived + (k > 0 ? k + log1p(exp(-k)) : log1p(exp(k)))
    }

    /// The part of the log-likelihood that depends on x only (shared by every observation with that x).
    func commonLogLikelihood(repeatDays x: Double) -> Double {
        let lg = SpecialFunctions.logGamma
        let rate = lg(r + x) - lg(r) + r * log(alpha)
        switch variant {
        case .mbgnbd:
            return rate + lg(a + b) + lg(b + x + 1) - lg(b) - lg(a + b + x + 1)
        case .bgnbd:
            return rate + lg(a + b) + lg(b + x) - lg(b) - lg(a + b + x)
        }
    }
}
