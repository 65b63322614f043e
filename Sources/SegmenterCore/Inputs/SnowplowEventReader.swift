/// Reads one Snowplow enriched event, as the Snowplow analytics SDKs turn the enriched TSV into JSON (self-describing
/// events and entities as `unstruct_event_<vendor>_<name>_<major>` and `contexts_<vendor>_<name>_<major>` members),
/// onto the native ``Event``, following the README's Snowplow table. E-commerce is the Snowplow e-commerce plugin's
/// `snowplow_ecommerce_action` event with its product, transaction and refund entities.
struct SnowplowEventReader: JSONFieldReader {
    var scanner: JSONScanner
    var problem: EventRejection?
    private var eventName: JSONScanner.StringToken?
    private var action: JSONScanner.StringToken?
    private var userID: JSONScanner.StringToken?
    private var domainUserID: JSONScanner.StringToken?
    private var derivedTimestamp: Int64?
    private var collectorTimestamp: Int64?
    private var revenue: Double?
    private var totalQuantity: Double?
    private var refundAmount: Double?
    private var products = ProductLines()
    private var line = ProductLines.Line()
    private var event = Event(customerID: "", type: .other, timestamp: 0)

    private static let actionField =
        "unstruct_event_com_snowplowanalytics_snowplow_ecommerce_snowplow_ecommerce_action_1"
    private static let productField = "contexts_com_snowplowanalytics_snowplow_ecommerce_product_1"
    private static let transactionField = "contexts_com_snowplowanalytics_snowplow_ecommerce_transaction_1"
    private static let refundField = "contexts_com_snowplowanalytics_snowplow_ecommerce_refund_1"

    init(scanner: JSONScanner) {
        self.scanner = scanner
    }

    mutating func read() throws(EventRejection) -> Result<Event, EventRejection> {
        if let notAnObject = try readMessage({ reader, key throws(EventRejection) in try reader.readEvent(key) }) {
            return .failure(notAnObject)
        }
        if let problem { return .failure(problem) }
        guard let eventName else {
            return .failure(.missing("event_name", "every enriched event names its kind, e.g. \"page_view\""))
        }
        switch JSONText(eventName, in: scanner) {
        case "page_view": event.type = .pageView
        case "site_search": event.type = .search
        case "snowplow_ecommerce_action":
            event.type = action.map { Self.actionType(JSONText($0, in: scanner)) } ?? .other
        default: event.type = .other
        }
        switch customer(known: userID, "user_id", anonymous: domainUserID, "domain_userid") {
        case .success(let ids): (event.customerID, event.anonymousID) = ids
        case .failure(let rejection): return .failure(rejection)
        }
        guard let time = derivedTimestamp ?? collectorTimestamp else {
            return .failure(.missing(
                "derived_tstamp", else: ["collector_tstamp"], "every event must say when it happened"))
        }
        event.timestamp = time
        switch event.type {
        case .purchase: event.value = revenue
        case .refund: event.value = refundAmount
        default: event.value = products.value
        }
        if let value = event.value, !value.isFinite {
            return .failure(.nonFinite("\(Self.productField)[].price × quantity"))
        }
        event.quantity = totalQuantity ?? products.quantity
        event.category = products.firstCategory
        event.productID = products.firstProductID
        return .success(event)
    }

    /// The README's table of e-commerce action `type`s.
    static func actionType(_ type: JSONText) -> EventType {
        switch type {
        case "product_view", "list_view": .productView
        case "add_to_cart": .addToCart
        case "remove_from_cart": .removeFromCart
        case "checkout_step": .checkoutStart
        case "transaction": .purchase
        case "refund": .refund
        default: .other
        }
    }

    private mutating func readEvent(_ key: JSONText) throws(EventRejection) {
        switch key {
        case "event_name": eventName = try readOptionalStringToken("event_name")
        case "event_id": event.eventID = try readOptionalString("event_id")
        case "user_id": userID = try readOptionalStringToken("user_id")
        case "domain_userid": domainUserID = try readOptionalStringToken("domain_userid")
        case "derived_tstamp": derivedTimestamp = try readTimestamp("derived_tstamp")
        case "collector_tstamp": collectorTimestamp = try readTimestamp("collector_tstamp")
        case "domain_sessionid": event.sessionID = try readOptionalString("domain_sessionid")
        case "mkt_source": event.channel = try readOptionalString("mkt_source")
        case "geo_country": event.country = try readOptionalString("geo_country")
        case "unstruct_event_com_snowplowanalytics_snowplow_ecommerce_snowplow_ecommerce_action_1":
            try readOptionalObject(Self.actionField) { reader, key throws(EventRejection) in
                guard case "type" = key else { return try reader.scanner.skipValue() }
                reader.action = try reader.readOptionalStringToken("\(Self.actionField).type")
            }
        case "contexts_com_snowplowanalytics_snowplow_ecommerce_product_1":
            products = ProductLines()
            try readOptionalArray(Self.productField) { reader, index throws(EventRejection) in
                reader.line = ProductLines.Line()
                try reader.readOptionalObject("\(Self.productField)[\(index)]") { reader, key throws(EventRejection) in
                    try reader.readProduct(key, index)
                }
                reader.products.add(reader.line, at: index)
            }
        case "contexts_com_snowplowanalytics_snowplow_ecommerce_transaction_1":
            try readFirstEntity(Self.transactionField) { reader, key throws(EventRejection) in
                switch key {
                case "revenue": reader.revenue = try reader.readOptionalNumber("\(Self.transactionField)[0].revenue")
                case "total_quantity":
                    reader.totalQuantity = try reader.readOptionalNumber("\(Self.transactionField)[0].total_quantity")
                default: try reader.scanner.skipValue()
                }
            }
        case "contexts_com_snowplowanalytics_snowplow_ecommerce_refund_1":
            try readFirstEntity(Self.refundField) { reader, key throws(EventRejection) in
                guard case "refund_amount" = key else { return try reader.scanner.skipValue() }
                reader.refundAmount = try reader.readOptionalNumber("\(Self.refundField)[0].refund_amount")
            }
        default: try scanner.skipValue()
        }
    }

    /// An entity list of which only the first entity is read (an event has one transaction, one refund); the others
    /// are still checked to be objects.
    private mutating func readFirstEntity(
        _ field: String, _ member: (inout Self, JSONText) throws(EventRejection) -> Void
    ) throws(EventRejection) {
        try readOptionalArray(field) { reader, index throws(EventRejection) in
            guard index == 0 else {
                return try reader.readOptionalObject("\(field)[\(index)]") { reader, _ throws(EventRejection) in
                    try reader.scanner.skipValue()
                }
            }
            try reader.readOptionalObject("\(field)[0]", member)
        }
    }

    private mutating func readProduct(_ key: JSONText, _ index: Int) throws(EventRejection) {
        switch key {
        case "price": line.price = try readOptionalNumber("\(Self.productField)[\(index)].price")
        case "quantity": line.quantity = try readOptionalNumber("\(Self.productField)[\(index)].quantity")
        case "category": line.category = try readOptionalString("\(Self.productField)[\(index)].category")
        case "id": line.productID = try readOptionalString("\(Self.productField)[\(index)].id")
        default: try scanner.skipValue()
        }
    }
}
