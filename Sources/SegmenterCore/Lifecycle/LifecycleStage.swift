/// Where a customer is in their lifecycle, in the order time alone moves them: `new`, then `active`, `atRisk`,
/// `lapsed`. An activity can bring them back to `active`.
public enum LifecycleStage: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case new
    case active
    case atRisk = "at_risk"
    case lapsed

    public static func < (lhs: LifecycleStage, rhs: LifecycleStage) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
