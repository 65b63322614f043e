/// One segment change in a customer's history, kept for the API's "last transitions" view.
public struct Transition: Sendable, Equatable {
    public var customerID: String
    /// 1, 2, 3, … per customer, matching `StoredCustomer.transitionSeq` after the change.
    public var seq: Int64
    /// `nil` on the customer's first assignment.
    public var fromSegment: Int?
    public var toSegment: Int
    public var at: Int64
    /// `event`, `timer` or `model` (DESIGN §3).
    public var cause: String

    public init(customerID: String, seq: Int64, fromSegment: Int?, toSegment: Int, at: Int64, cause: String) {
        self.customerID = customerID
        self.seq = seq
        self.fromSegment = fromSegment
        self.toSegment = toSegment
        self.at = at
        self.cause = cause
    }
}
