import Foundation

/// A deterministic stream of synthetic e-commerce events from customers of known ``Persona``s: the data for
/// `segmenter generate`, the demo, and tests that score segmentation against the truth.
///
/// Every customer arrives during the first eighth of the timeline and then has sessions (a `session_start`
/// followed by page and product views, searches and, depending on the persona, carts, checkouts, purchases
/// and refunds) at a persona-specific rate. Rates are scaled so that `events` events spread over `days` days;
/// the stream stops after exactly `events` events (earlier only if every customer has stopped, which only
/// dormant customers do). Events come out in non-decreasing timestamp order across all customers. The same
/// arguments always give the same stream: all randomness comes from one ``SplitMix64`` seeded with `seed`.
///
/// Two shapes: ``Shape/tidy`` (every customer of a persona shops alike, all arrive early and stay: easy to cluster)
/// and ``Shape/realistic``, as hard as a real shop's data: heavy-tailed activity (most customers have a session or
/// two, a few have hundreds), each customer's habits drawn around their persona's so that personas overlap,
/// customers arriving over the whole timeline and a quarter of them lapsing at their own time, a day cycle, and
/// noise (bounces and stray events).
public struct SyntheticShoppers: Sequence, IteratorProtocol, Sendable {
    public enum Shape: String, Sendable, Hashable, CaseIterable {
        case tidy
        case realistic
    }

    /// The catalogue's categories; product ids are `p-<category index><4 digits>`.
    static let categories = [
        "shoes", "apparel", "electronics", "home", "beauty", "books",
        "toys", "sports", "grocery", "garden", "jewelry", "automotive",
    ]
    private static let devices = ["mobile", "mobile", "desktop", "tablet"]
    private static let channels = ["direct", "organic", "email", "paid_search", "social"]
    private static let countries = ["DE", "FR", "GB", "US", "NL", "ES", "IT", "PL", "SE"]
    private static let dayMilliseconds: Int64 = 86_400_000

    public let customers: Int
    public let events: Int
    public let seed: UInt64
    /// Start of the timeline, epoch milliseconds.
    public let start: Int64
    public let days: Int
    public let shape: Shape

    private var rng: SplitMix64
    private var personas: [Persona]
    private var shoppers: [Shopper] = []
    private var queue = TimeOrderedQueue()
    private var emitted = 0
    /// Sessions per day for one unit of ``ShopperBehavior/sessionsPerDay``.
    private var rateScale = 1.0

    public init(
        customers: Int, events: Int, seed: UInt64, start: Int64 = 1_767_225_600_000, days: Int = 56,
        shape: Shape = .tidy
    ) {
        precondition(customers >= 0 && events >= 0 && days >= 1, "customers, events must be ≥ 0 and days ≥ 1")
        self.customers = customers
        self.events = events
        self.seed = seed
        self.start = start
        self.days = days
        self.shape = shape
        rng = SplitMix64(seed: seed)
        // An even mix, shuffled by the seed.
        var mix = (0..<customers).map { Persona.allCases[$0 % Persona.allCases.count] }
        personas = []
        shuffle(&mix)
        personas = mix
        let timeline = Int64(days) * Self.dayMilliseconds
        var expectedEventsPerUnitRate = 0.0
        // Every customer's first session happens at arrival whatever the rate; the realistic shape counts those
        // events apart so that the rest fills the timeline (most of its customers have only that session).
        var arrivalSessionEvents = 0.0
        for index in 0..<customers {
            let shopper = makeShopper(index: index, timeline: timeline)
            let activeMilliseconds = Swift.min(shopper.stopAt, start + timeline) - shopper.arrival
            let activeDays = Swift.max(Double(activeMilliseconds) / Double(Self.dayMilliseconds), 0)
            let behavior = shopper.behavior
            expectedEventsPerUnitRate += behavior.sessionsPerDay * activeDays * behavior.expectedEventsPerSession
            arrivalSessionEvents += behavior.expectedEventsPerSession
            shoppers.append(shopper)
            queue.push(time: shopper.arrival, index: index)
        }
        let budget = shape == .realistic
            ? Swift.max(Double(events) - arrivalSessionEvents, Double(events) / 10) : Double(events)
        if expectedEventsPerUnitRate > 0 { rateScale = budget / expectedEventsPerUnitRate }
    }

    /// The true persona of the customer at `index` (0..<customers).
    public func persona(ofCustomerAt index: Int) -> Persona { personas[index] }

    /// The id of the customer at `index`, e.g. `c-000123`.
    public func customerID(at index: Int) -> String { "c-" + Self.zeroPadded(index, width: 6) }

    /// Every customer with their true persona, in index order.
    public var truth: [(customerID: String, persona: Persona)] {
        personas.indices.map { (customerID(at: $0), personas[$0]) }
    }

    public mutating func next() -> Event? {
        guard emitted < events, let (time, index) = queue.pop() else { return nil }
        if shoppers[index].pending.isEmpty {
            startSession(of: index, at: time)
        }
        var event = shoppers[index].pending.removeFirst()
        emitted += 1
        event.eventID = "e-" + Self.zeroPadded(emitted, width: 8)
        if let following = shoppers[index].pending.first {
            queue.push(time: following.timestamp, index: index)
        } else {
            let meanGapDays = 1 / (shoppers[index].behavior.sessionsPerDay * rateScale)
            let gap = Int64(exponential(mean: meanGapDays) * Double(Self.dayMilliseconds))
            var nextSession = event.timestamp + 60_000 + gap
            if shape == .realistic { nextSession = daytime(nextSession) }
            if nextSession < shoppers[index].stopAt {
                queue.push(time: nextSession, index: index)
            }
        }
        return event
    }

    // MARK: Customers and sessions

    /// One customer's fixed traits and the rest of their current session.
    private struct Shopper {
        var persona: Persona
        var behavior: ShopperBehavior
        var customerID: String
        var arrival: Int64
        var stopAt: Int64
        var device: String
        var channel: String
        var country: String
        var favouriteCategories: [Int]
        var sessions = 0
        var purchases = 0
        var pending: [Event] = []
        var refundDue: Event?
    }

    private mutating func makeShopper(index: Int, timeline: Int64) -> Shopper {
        let persona = personas[index]
        var behavior = ShopperBehavior.of(persona)
        var arrival = start + Int64(uniform() * Double(timeline) / 8)
        var stopAt = Int64.max
        if let fraction = behavior.activeUntilFraction {
            stopAt = start + Int64(uniform(fraction) * Double(timeline))
        }
        if shape == .realistic {
            behavior = individual(behavior)
            arrival = daytime(start + Int64(uniform(0...0.85) * Double(timeline)))
            if stopAt == .max, uniform() < 0.25 {
                stopAt = arrival + Int64(uniform() * Double(start + timeline - arrival))
            }
        }
        var categories = Array(Self.categories.indices)
        shuffle(&categories)
        return Shopper(
            persona: persona, behavior: behavior, customerID: customerID(at: index), arrival: arrival, stopAt: stopAt,
            device: pick(Self.devices), channel: pick(Self.channels), country: pick(Self.countries),
            favouriteCategories: Array(categories.prefix(random(behavior.favouriteCategories))))
    }

    /// Plans the whole session that starts at `time` into the shopper's pending events.
    private mutating func startSession(of index: Int, at time: Int64) {
        var shopper = shoppers[index]
        shopper.sessions += 1
        let behavior = shopper.behavior
        let sessionID = "s-" + Self.zeroPadded(index, width: 6) + "-" + String(shopper.sessions)
        var clock = time
        var planned: [Event] = []
        func add(_ type: EventType, value: Double? = nil, quantity: Double? = nil, product: Int? = nil) {
            planned.append(Event(
                customerID: shopper.customerID, type: type, timestamp: clock, sessionID: sessionID, value: value,
                quantity: quantity, category: product.map { Self.categories[$0 / 10_000] },
                productID: type == .search ? nil : product.map { "p-" + Self.zeroPadded($0, width: 6) },
                device: shopper.device, channel: shopper.channel, country: shopper.country))
            clock += 5_000 + Int64(random(0...115_000))
        }

        add(.sessionStart)
        if shape == .realistic, uniform() < 0.12 {
            // A bounce: one page, nothing else.
            add(.pageView)
            shopper.pending = planned
            shoppers[index] = shopper
            return
        }
        if var refund = shopper.refundDue {
            refund.timestamp = clock
            refund.sessionID = sessionID
            planned.append(refund)
            clock += 5_000 + Int64(random(0...115_000))
            shopper.refundDue = nil
        }
        let isFirstPurchase = shopper.persona == .oneTimeBuyer && shopper.purchases == 0
        var browsing: [EventType] = Array(repeating: .pageView, count: random(behavior.pageViews))
        browsing += Array(repeating: .search, count: random(behavior.searches))
        browsing += Array(repeating: .productView, count: random(behavior.productViews) + (isFirstPurchase ? 2 : 0))
        shuffle(&browsing)
        var lastProduct = product(for: shopper)
        for type in browsing {
            // A search names a category; half the product views stay in the category just looked at.
            if type != .pageView {
                lastProduct = product(for: shopper, near: type == .productView && uniform() < 0.5 ? lastProduct : nil)
            }
            add(type, product: type == .pageView ? nil : lastProduct)
            if shape == .realistic, uniform() < 0.03 { add(.other) }
        }

        if isFirstPurchase || uniform() < behavior.cartProbability {
            var cart: [(product: Int, value: Double, quantity: Int)] = []
            for _ in 0..<(isFirstPurchase ? 1 : random(behavior.cartItems)) {
                let item = product(for: shopper)
                let quantity = random(behavior.quantity)
                let value = ((uniform(behavior.unitPrice) * Double(quantity)) * 100).rounded() / 100
                cart.append((item, value, quantity))
                add(.addToCart, value: value, quantity: Double(quantity), product: item)
            }
            if cart.count > 1, uniform() < behavior.removeProbability {
                let removed = cart.removeLast()
                add(.removeFromCart, value: removed.value, quantity: Double(removed.quantity), product: removed.product)
            }
            if isFirstPurchase || uniform() < behavior.checkoutProbability {
                let total = (cart.reduce(0) { $0 + $1.value } * 100).rounded() / 100
                let items = Double(cart.reduce(0) { $0 + $1.quantity })
                add(.checkoutStart, value: total, quantity: items, product: cart[0].product)
                if isFirstPurchase || uniform() < behavior.purchaseProbability {
                    add(.purchase, value: total, quantity: items, product: cart[0].product)
                    shopper.purchases += 1
                    if uniform() < behavior.refundProbability {
                        var refund = planned[planned.count - 1]
                        refund.type = .refund
                        shopper.refundDue = refund
                    }
                }
            }
        }
        shopper.pending = planned
        shoppers[index] = shopper
    }

    /// A product from one of the shopper's favourite categories, encoded as category index × 10 000 + item.
    private mutating func product(for shopper: Shopper, near previous: Int? = nil) -> Int {
        let category = previous.map { $0 / 10_000 } ?? pick(shopper.favouriteCategories)
        return category * 10_000 + random(0...199)
    }

    // MARK: Realistic shape

    /// This customer's own habits, drawn around the persona's: rates and probabilities scaled by log-normal
    /// factors, so that two personas' customers overlap and activity is heavy-tailed (σ = 1.1 on the session rate:
    /// the busiest customer in a thousand shops about 30 times as often as the median one).
    private mutating func individual(_ persona: ShopperBehavior) -> ShopperBehavior {
        var b = persona
        b.sessionsPerDay *= logNormal(sigma: 1.1)
        // A tenth of the customers do now and then what their persona never does (a window shopper who carts).
        func probability(_ p: Double) -> Double {
            p == 0 ? (uniform() < 0.1 ? 0.05 : 0) : Swift.min(1, p * logNormal(sigma: 0.45))
        }
        func range(_ r: ClosedRange<Int>) -> ClosedRange<Int> {
            let f = logNormal(sigma: 0.4)
            let low = Int((Double(r.lowerBound) * f).rounded())
            return low...Swift.max(low, Int((Double(r.upperBound) * f).rounded()))
        }
        b.cartProbability = probability(b.cartProbability)
        b.checkoutProbability = probability(b.checkoutProbability)
        b.purchaseProbability = probability(b.purchaseProbability)
        b.refundProbability = probability(b.refundProbability)
        b.removeProbability = probability(b.removeProbability)
        b.pageViews = range(b.pageViews)
        b.productViews = range(b.productViews)
        b.searches = range(b.searches)
        let price = logNormal(sigma: 0.5)
        b.unitPrice = (b.unitPrice.lowerBound * price)...(b.unitPrice.upperBound * price)
        return b
    }

    /// Shops sleep: a session due between 01:00 and 07:00 (UTC) mostly moves to the morning.
    private mutating func daytime(_ time: Int64) -> Int64 {
        let hour = (time % Self.dayMilliseconds) / 3_600_000
        guard (1..<7).contains(hour), uniform() < 0.8 else { return time }
        return time + (7 - hour) * 3_600_000 + Int64(uniform() * 3 * 3_600_000)
    }

    private mutating func logNormal(sigma: Double) -> Double {
        // Box–Muller from two uniforms in (0, 1].
        let u = 1 - uniform(), v = uniform()
        return exp(sigma * (-2 * log(u)).squareRoot() * cos(2 * .pi * v))
    }

    // MARK: Randomness (own helpers, so that streams do not change with the standard library's algorithms)

    private mutating func uniform() -> Double { Double(rng.next() >> 11) * 0x1p-53 }

    private mutating func uniform(_ range: ClosedRange<Double>) -> Double {
        range.lowerBound + uniform() * (range.upperBound - range.lowerBound)
    }

    private mutating func random(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(rng.next() % UInt64(range.upperBound - range.lowerBound + 1))
    }

    /// Fisher–Yates.
    private mutating func shuffle<T>(_ items: inout [T]) {
        for index in items.indices.dropFirst().reversed() {
            items.swapAt(index, random(0...index))
        }
    }

    private mutating func pick<T>(_ items: [T]) -> T { items[random(0...items.count - 1)] }

    private mutating func exponential(mean: Double) -> Double { -mean * log1p(-uniform()) }

    static func zeroPadded(_ value: Int, width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
