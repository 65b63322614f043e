/// The true behavioural type of a synthetic shopper. ``SyntheticShoppers`` draws each customer's events from
/// their persona and keeps the persona as ground truth, so that clustering can be scored against it.
public enum Persona: String, CaseIterable, Sendable, Hashable {
    /// Many page and product views across many categories; never carts or buys.
    case windowShopper = "window_shopper"
    /// Many searches and product views per session; frequent cheap purchases; refunds some of them.
    case bargainHunter = "bargain_hunter"
    /// Frequent sessions that mostly end in high-value purchases from one or two categories.
    case loyalHighValue = "loyal_high_value"
    /// Buys once in their first session, then comes back rarely and briefly.
    case oneTimeBuyer = "one_time_buyer"
    /// Puts things in the cart in most sessions and rarely completes the purchase.
    case cartAbandoner = "cart_abandoner"
    /// Active and buying in the first third of the timeline, then never seen again.
    case dormant = "dormant"
}
