/// Measures of predictions against what customers did in a holdout period.
enum HoldoutMetrics {
    static func meanAbsoluteError(_ predicted: [Double], _ actual: [Double]) -> Double {
        zip(predicted, actual).reduce(0) { $0 + abs($1.0 - $1.1) } / Double(actual.count)
    }

    static func pearson(_ a: [Double], _ b: [Double]) -> Double {
        let n = Double(a.count)
        let ma = a.reduce(0, +) / n, mb = b.reduce(0, +) / n
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for (x, y) in zip(a, b) {
            sab += (x - ma) * (y - mb)
            saa += (x - ma) * (x - ma)
            sbb += (y - mb) * (y - mb)
        }
        return sab / (saa * sbb).squareRoot()
    }

    /// Area under the ROC curve of `scores` for `positive` (Mann–Whitney, ties counted half).
    static func auc(_ scores: [Double], _ positive: [Bool]) -> Double {
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var ranks = [Double](repeating: 0, count: scores.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count, scores[order[j + 1]] == scores[order[i]] { j += 1 }
            for k in i...j { ranks[order[k]] = Double(i + j) / 2 + 1 }
            i = j + 1
        }
        let positives = Double(positive.filter { $0 }.count)
        let negatives = Double(positive.count) - positives
        let rankSum = zip(ranks, positive).reduce(0) { $0 + ($1.1 ? $1.0 : 0) }
        return (rankSum - positives * (positives + 1) / 2) / (positives * negatives)
    }
}
