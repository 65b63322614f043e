/// A failure a command reports to its user in one sentence: what went wrong and what to do about it.
public struct CommandError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
