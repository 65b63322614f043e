import Foundation

/// The few special functions the lifecycle models need, written out so that results do not depend on a C
/// library's implementation (the same fitted model on every platform) and are safe to call concurrently (glibc's
/// `lgamma` writes a global).
enum SpecialFunctions {
    private static let lanczos: [Double] = [
        0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
        -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
        1.5056327351493116e-7,
    ]

    /// log Γ(x) for x > 0 (Lanczos, g = 7: about 15 significant digits).
    static func logGamma(_ x: Double) -> Double {
        if x < 0.5 {
            // Reflection keeps the approximation in the range where it is accurate.
            return log(Double.pi / sin(Double.pi * x)) - logGamma(1 - x)
        }
        let z = x - 1
        var sum = lanczos[0]
        for i in 1..<lanczos.count {
            sum += lanczos[i] / (z + Double(i))
        }
        let t = z + 7.5
        return 0.5 * log(2 * Double.pi) + (z + 0.5) * log(t) - t + log(sum)
    }

    /// log(e^logFactor · ₂F₁(a, b; c; z)) for 0 ≤ z < 1 and a, b, c > 0, by Gauss's power series summed in log
    /// space. The models need ₂F₁ times a factor like ((α + T) / (α + T + t))^(r + x): for a customer with many
    /// active days the series alone overflows and the factor alone underflows, while their product is moderate.
    static func logHypergeometric2F1(_ a: Double, _ b: Double, _ c: Double, _ z: Double, logFactor: Double) -> Double {
        var logTerm = logFactor, logSum = logFactor
        let logZ = log(z)
        guard z > 0 else { return logSum }
        for n in 0..<1_000_000 {
            let k = Double(n)
            let step = log((a + k) * (b + k) / ((c + k) * (k + 1))) + logZ
            logTerm += step
            let high = max(logSum, logTerm)
            logSum = high + log(exp(logSum - high) + exp(logTerm - high))
            // Once terms shrink they keep shrinking (the ratio falls toward z < 1): stop when they stop counting.
            if step < 0, logTerm < logSum - 40 { break }
        }
        return logSum
    }
}
