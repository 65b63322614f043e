/// The kind of a behavioural event. Any `type` string that is not one of the known names decodes as `.other`
/// (DESIGN §3): new event kinds upstream must not stop the segmenter.
public enum EventType: UInt8, CaseIterable, Sendable, Hashable, Codable {
    case sessionStart
    case pageView
    case productView
    case search
    case addToCart
    case removeFromCart
    case checkoutStart
    case purchase
    case refund
    case other

    /// The wire name used in the input JSON (`"type"`) and in configuration files.
    public var wireName: String {
        switch self {
        case .sessionStart: "session_start"
        case .pageView: "page_view"
        case .productView: "product_view"
        case .search: "search"
        case .addToCart: "add_to_cart"
        case .removeFromCart: "remove_from_cart"
        case .checkoutStart: "checkout_start"
        case .purchase: "purchase"
        case .refund: "refund"
        case .other: "other"
        }
    }

    /// Maps a wire name to its type; unknown names are `.other`.
    public init(wireName: some StringProtocol) {
        self = EventType.allCases.first { $0.wireName == wireName } ?? .other
    }
}

/// One decoded input event (DESIGN §3), in the form the core works on: time is epoch milliseconds UTC and the
/// optional `properties` are flattened into optional fields.
public struct Event: Sendable, Hashable {
    /// Producer-assigned id, used to skip retried duplicates. Optional in the input.
    public var eventID: String?
    /// Non-empty, at most ``EventDecoder/maxCustomerIDBytes`` UTF-8 bytes.
    public var customerID: String
    /// The anonymous (device or cookie) id when the input named the customer by a known id as well: Segment's
    /// `anonymousId`, GA4's `user_pseudo_id`, Snowplow's `domain_userid` next to a user id. Kept for identity
    /// merges (issue 18); nil for native events and when the anonymous id is the customer id.
    public var anonymousID: String?
    public var type: EventType
    /// Event time in milliseconds since 1970-01-01T00:00:00Z.
    public var timestamp: Int64
    public var sessionID: String?
    /// `properties.value`: money amount of the event (order value for purchases, refund amount for refunds).
    public var value: Double?
    public var quantity: Double?
    public var category: String?
    public var productID: String?
    public var device: String?
    public var channel: String?
    public var country: String?

    public init(
        eventID: String? = nil, customerID: String, type: EventType, timestamp: Int64, sessionID: String? = nil,
        value: Double? = nil, quantity: Double? = nil, category: String? = nil, productID: String? = nil,
        device: String? = nil, channel: String? = nil, country: String? = nil, anonymousID: String? = nil
    ) {
        self.eventID = eventID
        self.customerID = customerID
        self.type = type
        self.timestamp = timestamp
        self.sessionID = sessionID
        self.value = value
        self.quantity = quantity
        self.category = category
        self.productID = productID
        self.device = device
        self.channel = channel
        self.country = country
        self.anonymousID = anonymousID
    }
}
