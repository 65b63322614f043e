/// What the lifecycle model predicts for one customer at one time, over a horizon.
public struct CustomerPrediction: Sendable, Hashable, Codable {
    /// Probability that the customer is still alive (will be active again).
    public var pAlive: Double
    /// Expected purchase days in the horizon.
    public var expectedOrders: Double
    /// Expected value of one of their purchase days.
    public var expectedAverageValue: Double
    /// Expected purchase value in the horizon: expected orders × expected value.
    public var expectedRevenue: Double

    public init(pAlive: Double, expectedOrders: Double, expectedAverageValue: Double, expectedRevenue: Double) {
        self.pAlive = pAlive
        self.expectedOrders = expectedOrders
        self.expectedAverageValue = expectedAverageValue
        self.expectedRevenue = expectedRevenue
    }
}
