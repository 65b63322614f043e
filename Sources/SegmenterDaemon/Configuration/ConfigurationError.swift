/// A configuration mistake, found at start-up: names the file (or variable or flag), the field's path, the bad
/// value and what is expected.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var source: String
    public var problems: [String]

    public init(source: String, problems: [String]) {
        self.source = source
        self.problems = problems
    }

    public var description: String {
        if problems.count == 1 {
            return "invalid configuration (\(source)): \(problems[0])"
        }
        return "invalid configuration (\(source)):\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}
