/// Reads one Segment call (Spec: `track`, `page`, `screen`, with the E-commerce Spec v2 event names) onto the
/// native ``Event``, following the README's Segment table. `identify`, `alias` and `group` describe the customer,
/// not behaviour: they come back as ``EventRejection/Code-swift.enum/notBehaviour``, which is counted, not
/// dead-lettered (an `identify` or `alias` call is then read again as an ``IdentityTie``).
struct SegmentEventReader: JSONFieldReader {
    var scanner: JSONScanner
    var problem: EventRejection?
    private var call: JSONScanner.StringToken?
    private var eventName: JSONScanner.StringToken?
    private var userID: JSONScanner.StringToken?
    private var anonymousID: JSONScanner.StringToken?
    private var timestamp: Int64?
    private var originalTimestamp: Int64?
    private var receivedAt: Int64?
    private var revenue: Double?
    private var total: Double?
    private var price: Double?
    private var quantity: Double?
    private var category: String?
    private var productID: String?
    private var products = ProductLines()
    private var line = ProductLines.Line()
    private var event = Event(customerID: "", type: .other, timestamp: 0)

    init(scanner: JSONScanner) {
        self.scanner = scanner
    }

    mutating func read() throws(EventRejection) -> Result<Event, EventRejection> {
        if let notAnObject = try readMessage({ reader, key throws(EventRejection) in try reader.readCall(key) }) {
            return .failure(notAnObject)
        }
        if let problem { return .failure(problem) }
        guard let call else {
            return .failure(.missing("type", "every Segment call says what it is, e.g. \"track\" or \"page\""))
        }
        switch JSONText(call, in: scanner) {
        case "track": event.type = eventName.map { Self.eventType(JSONText($0, in: scanner)) } ?? .other
        case "page", "screen": event.type = .pageView
        case "identify": return .failure(.notBehaviour(call: "identify"))
        case "alias": return .failure(.notBehaviour(call: "alias"))
        case "group": return .failure(.notBehaviour(call: "group"))
        default: event.type = .other
        }
        switch customer(known: userID, "userId", anonymous: anonymousID, "anonymousId") {
        case .success(let ids): (event.customerID, event.anonymousID) = ids
        case .failure(let rejection): return .failure(rejection)
        }
        guard let time = timestamp ?? originalTimestamp ?? receivedAt else {
            return .failure(.missing(
                "timestamp", else: ["originalTimestamp", "receivedAt"], "every call must say when it happened"))
        }
        event.timestamp = time
        switch event.type {
        case .purchase, .checkoutStart: event.value = revenue ?? total ?? products.value
        case .refund: event.value = total ?? revenue
        default: event.value = price.map { $0 * (quantity ?? 1) }
        }
        if let value = event.value, !value.isFinite { return .failure(.nonFinite("properties.price × quantity")) }
        event.quantity = products.quantity ?? quantity
        event.category = category ?? products.firstCategory
        event.productID = productID ?? products.firstProductID
        return .success(event)
    }

    /// The README's table of `track` event names.
    static func eventType(_ name: JSONText) -> EventType {
        switch name {
        case "Product Viewed", "Product List Viewed": .productView
        case "Products Searched": .search
        case "Product Added": .addToCart
        case "Product Removed": .removeFromCart
        case "Cart Viewed": .pageView
        case "Checkout Started", "Checkout Step Viewed", "Checkout Step Completed", "Payment Info Entered":
            .checkoutStart
        case "Order Completed": .purchase
        case "Order Refunded": .refund
        default: .other
        }
    }

    private mutating func readCall(_ key: JSONText) throws(EventRejection) {
        switch key {
        case "type": call = try readOptionalStringToken("type")
        case "event": eventName = try readOptionalStringToken("event")
        case "userId": userID = try readOptionalStringToken("userId")
        case "anonymousId": anonymousID = try readOptionalStringToken("anonymousId")
        case "messageId": event.eventID = try readOptionalString("messageId")
        case "timestamp": timestamp = try readTimestamp("timestamp")
        case "originalTimestamp": originalTimestamp = try readTimestamp("originalTimestamp")
        case "receivedAt": receivedAt = try readTimestamp("receivedAt")
        case "context":
            try readOptionalObject("context") { reader, key throws(EventRejection) in try reader.readContext(key) }
        case "properties":
            try readOptionalObject("properties") { reader, key throws(EventRejection) in
                try reader.readProperties(key)
            }
        default: try scanner.skipValue()
        }
    }

    private mutating func readContext(_ key: JSONText) throws(EventRejection) {
        switch key {
        case "sessionId": event.sessionID = try readOptionalIdentifier("context.sessionId")
        case "device": event.device = try readStringMember("type", of: "context.device")
        case "campaign": event.channel = try readStringMember("source", of: "context.campaign")
        case "location": event.country = try readStringMember("country", of: "context.location")
        default: try scanner.skipValue()
        }
    }

    private mutating func readProperties(_ key: JSONText) throws(EventRejection) {
        switch key {
        case "revenue": revenue = try readOptionalNumber("properties.revenue")
        case "total": total = try readOptionalNumber("properties.total")
        case "price": price = try readOptionalNumber("properties.price")
        case "quantity": quantity = try readOptionalNumber("properties.quantity")
        case "category": category = try readOptionalString("properties.category")
        case "product_id": productID = try readOptionalString("properties.product_id")
        case "products":
            products = ProductLines()
            try readOptionalArray("properties.products") { reader, index throws(EventRejection) in
                reader.line = ProductLines.Line()
                try reader.readOptionalObject("properties.products[\(index)]") { reader, key throws(EventRejection) in
                    try reader.readProduct(key, index)
                }
                reader.products.add(reader.line, at: index)
            }
        default: try scanner.skipValue()
        }
    }

    private mutating func readProduct(_ key: JSONText, _ index: Int) throws(EventRejection) {
        switch key {
        case "price": line.price = try readOptionalNumber("properties.products[\(index)].price")
        case "quantity": line.quantity = try readOptionalNumber("properties.products[\(index)].quantity")
        case "category": line.category = try readOptionalString("properties.products[\(index)].category")
        case "product_id": line.productID = try readOptionalString("properties.products[\(index)].product_id")
        default: try scanner.skipValue()
        }
    }
}
