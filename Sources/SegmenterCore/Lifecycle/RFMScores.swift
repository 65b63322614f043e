/// A customer's RFM scores, each 1 (lowest fifth) to 5 (highest fifth): recency (5 = most recently active),
/// frequency (active days), monetary (total purchase value).
public struct RFMScores: Sendable, Hashable, Codable {
    public var r: Int
    public var f: Int
    public var m: Int

    public init(r: Int, f: Int, m: Int) {
        self.r = r
        self.f = f
        self.m = m
    }
}
