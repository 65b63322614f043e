/// How a ``Persona`` shops, as the probabilities and ranges ``SyntheticShoppers`` draws sessions from. The
/// numbers are chosen so that the personas differ in the features of DESIGN §4 (sessions, views, searches,
/// carts, purchases, order value, abandonment, refunds, recency, category spread), not to mimic any real shop.
struct ShopperBehavior: Sendable {
    /// Relative session rate; ``SyntheticShoppers`` scales all rates so the requested events fill the timeline.
    var sessionsPerDay: Double
    var pageViews: ClosedRange<Int>
    var productViews: ClosedRange<Int>
    var searches: ClosedRange<Int>
    /// Chance that a session puts something in the cart.
    var cartProbability: Double
    var cartItems: ClosedRange<Int>
    /// Chance, per session with a cart, of one `remove_from_cart`.
    var removeProbability: Double
    /// Chance, per session with a cart, of `checkout_start`.
    var checkoutProbability: Double
    /// Chance, per started checkout, of `purchase`.
    var purchaseProbability: Double
    /// Chance, per purchase, of a refund in the next session.
    var refundProbability: Double
    /// Price of one item.
    var unitPrice: ClosedRange<Double>
    var quantity: ClosedRange<Int>
    /// How many of the catalogue's categories the shopper favours.
    var favouriteCategories: ClosedRange<Int>
    /// Active until this fraction of the timeline (`nil`: never stops).
    var activeUntilFraction: ClosedRange<Double>?

    /// Events in an average session, used to scale session rates to the requested event count.
    var expectedEventsPerSession: Double {
        func mean(_ range: ClosedRange<Int>) -> Double { Double(range.lowerBound + range.upperBound) / 2 }
        let checkout = checkoutProbability * (1 + purchaseProbability * (1 + refundProbability))
        let cart = cartProbability * (mean(cartItems) + removeProbability + checkout)
        return 1 + mean(pageViews) + mean(productViews) + mean(searches) + cart
    }

    static func of(_ persona: Persona) -> ShopperBehavior {
        switch persona {
        case .windowShopper:
            ShopperBehavior(
                sessionsPerDay: 1.0, pageViews: 2...6, productViews: 4...10, searches: 0...2, cartProbability: 0,
                cartItems: 1...1, removeProbability: 0, checkoutProbability: 0, purchaseProbability: 0,
                refundProbability: 0, unitPrice: 10...100, quantity: 1...1,
                favouriteCategories: SyntheticShoppers.categories.count...SyntheticShoppers.categories.count,
                activeUntilFraction: nil)
        case .bargainHunter:
            ShopperBehavior(
                sessionsPerDay: 1.0, pageViews: 1...3, productViews: 5...12, searches: 3...7, cartProbability: 0.75,
                cartItems: 1...3, removeProbability: 0.2, checkoutProbability: 0.85, purchaseProbability: 0.85,
                refundProbability: 0.25, unitPrice: 3...20, quantity: 1...4, favouriteCategories: 3...5,
                activeUntilFraction: nil)
        case .loyalHighValue:
            ShopperBehavior(
                sessionsPerDay: 1.2, pageViews: 1...3, productViews: 2...4, searches: 0...1, cartProbability: 0.85,
                cartItems: 1...2, removeProbability: 0.05, checkoutProbability: 0.95, purchaseProbability: 0.95,
                refundProbability: 0.02, unitPrice: 120...400, quantity: 1...2, favouriteCategories: 1...2,
                activeUntilFraction: nil)
        case .oneTimeBuyer:
            // The one purchase is forced into the first session; later sessions never cart.
            ShopperBehavior(
                sessionsPerDay: 0.25, pageViews: 1...3, productViews: 0...2, searches: 0...1, cartProbability: 0,
                cartItems: 1...1, removeProbability: 0, checkoutProbability: 0, purchaseProbability: 0,
                refundProbability: 0, unitPrice: 30...90, quantity: 1...1, favouriteCategories: 1...1,
                activeUntilFraction: nil)
        case .cartAbandoner:
            ShopperBehavior(
                sessionsPerDay: 0.9, pageViews: 1...3, productViews: 2...6, searches: 0...2, cartProbability: 0.9,
                cartItems: 1...3, removeProbability: 0.3, checkoutProbability: 0.4, purchaseProbability: 0.15,
                refundProbability: 0, unitPrice: 30...150, quantity: 1...2, favouriteCategories: 2...3,
                activeUntilFraction: nil)
        case .dormant:
            ShopperBehavior(
                sessionsPerDay: 1.2, pageViews: 1...3, productViews: 2...5, searches: 0...2, cartProbability: 0.6,
                cartItems: 1...2, removeProbability: 0.1, checkoutProbability: 0.8, purchaseProbability: 0.8,
                refundProbability: 0.05, unitPrice: 40...150, quantity: 1...2, favouriteCategories: 2...3,
                activeUntilFraction: 0.25...0.4)
        }
    }
}
