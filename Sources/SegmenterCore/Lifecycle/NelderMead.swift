/// Nelder–Mead simplex minimisation (adaptive coefficients of Gao & Han 2012), deterministic: the same function
/// and start give the same result on every run. Used to fit the lifecycle models by maximum likelihood on
/// log-parameters; a restart from the best point guards against a simplex that collapsed early.
struct NelderMead {
    /// Stop when the simplex's function values differ by less than this.
    var tolerance = 1e-10
    var maxEvaluations = 4_000
    /// Initial step along each coordinate.
    var step = 0.5
    var restarts = 2

    /// The point where `f` is smallest as far as the search found, and its value. Non-finite values count as +∞.
    func minimize(_ start: [Double], _ f: ([Double]) -> Double) -> (point: [Double], value: Double) {
        var best = (point: start, value: finite(f(start)))
        for _ in 0...restarts {
            let next = search(from: best.point, f)
            let improved = next.value < best.value - tolerance
            if next.value <= best.value { best = next }
            if !improved { break }
        }
        return best
    }

    private func finite(_ value: Double) -> Double {
        value.isFinite ? value : .infinity
    }

    private func search(from start: [Double], _ f: ([Double]) -> Double) -> (point: [Double], value: Double) {
        let n = start.count
        let dimension = Double(n)
        let (reflection, expansion) = (1.0, 1 + 2 / dimension)
        let (contraction, shrink) = (0.75 - 1 / (2 * dimension), 1 - 1 / dimension)
        var simplex = [start]
        for i in 0..<n {
            var vertex = start
            vertex[i] += step
            simplex.append(vertex)
        }
        var values = simplex.map { finite(f($0)) }
        var evaluations = n + 1
        while evaluations < maxEvaluations {
            let order = values.indices.sorted { (values[$0], $0) < (values[$1], $1) }
            simplex = order.map { simplex[$0] }
            values = order.map { values[$0] }
            if values[n] - values[0] <= tolerance * (1 + abs(values[0])) { break }
            var centroid = [Double](repeating: 0, count: n)
            for vertex in simplex[0..<n] {
                for i in 0..<n { centroid[i] += vertex[i] / dimension }
            }
            func toward(_ coefficient: Double) -> [Double] {
                (0..<n).map { centroid[$0] + coefficient * (centroid[$0] - simplex[n][$0]) }
            }
            let reflected = toward(reflection)
            let fr = finite(f(reflected))
            evaluations += 1
            if fr < values[0] {
                let expanded = toward(expansion)
                let fe = finite(f(expanded))
                evaluations += 1
                (simplex[n], values[n]) = fe < fr ? (expanded, fe) : (reflected, fr)
            } else if fr < values[n - 1] {
                (simplex[n], values[n]) = (reflected, fr)
            } else {
                let inside = fr >= values[n]
                let contracted = toward(inside ? -contraction : contraction)
                let fc = finite(f(contracted))
                evaluations += 1
                if fc < min(fr, values[n]) {
                    (simplex[n], values[n]) = (contracted, fc)
                } else {
                    for j in 1...n {
                        simplex[j] = (0..<n).map { simplex[0][$0] + shrink * (simplex[j][$0] - simplex[0][$0]) }
                        values[j] = finite(f(simplex[j]))
                    }
                    evaluations += n
                }
            }
        }
        let bestIndex = values.indices.min { (values[$0], $0) < (values[$1], $1) }!
        return (simplex[bestIndex], values[bestIndex])
    }
}
