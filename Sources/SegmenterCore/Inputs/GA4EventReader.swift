/// Reads one row of the GA4 BigQuery export (one row per message, as streamed on from BigQuery or a GA4 export
/// pipeline) onto the native ``Event``, following the README's GA4 table. GA4 rows carry no event id, so retried
/// rows cannot be recognised as duplicates.
struct GA4EventReader: JSONFieldReader {
    /// One `event_params` entry while it is read: its key may follow its value.
    private struct Parameter {
        var key: JSONScanner.StringToken?
        var string: JSONScanner.StringToken?
        var integer: Int64?
        var number: Double?
    }

    var scanner: JSONScanner
    var problem: EventRejection?
    private var eventName: JSONScanner.StringToken?
    private var microseconds: Int64?
    private var userID: JSONScanner.StringToken?
    private var pseudoID: JSONScanner.StringToken?
    private var valueParameter: Double?
    private var purchaseRevenue: Double?
    private var refundValue: Double?
    private var totalItemQuantity: Int64?
    private var parameter = Parameter()
    private var items = ProductLines()
    private var line = ProductLines.Line()
    private var event = Event(customerID: "", type: .other, timestamp: 0)

    init(scanner: JSONScanner) {
        self.scanner = scanner
    }

    mutating func read() throws(EventRejection) -> Result<Event, EventRejection> {
        if let notAnObject = try readMessage({ reader, key throws(EventRejection) in try reader.readRow(key) }) {
            return .failure(notAnObject)
        }
        if let problem { return .failure(problem) }
        guard let eventName else {
            return .failure(.missing("event_name", "every GA4 row says what happened, e.g. \"purchase\""))
        }
        event.type = Self.eventType(JSONText(eventName, in: scanner))
        switch customer(known: userID, "user_id", anonymous: pseudoID, "user_pseudo_id") {
        case .success(let ids): (event.customerID, event.anonymousID) = ids
        case .failure(let rejection): return .failure(rejection)
        }
        guard let microseconds else {
            return .failure(.missing("event_timestamp", "every GA4 row says when it happened (epoch microseconds)"))
        }
        // Whole milliseconds, rounded down (also before 1970).
        let floored = microseconds / 1_000 - (microseconds % 1_000 < 0 ? 1 : 0)
        guard (RFC3339.minEpochMilliseconds...RFC3339.maxEpochMilliseconds).contains(floored) else {
            return .failure(EventRejection(
                code: .invalidTimestamp,
                message: "field \"event_timestamp\" = \(microseconds) is not epoch microseconds between years "
                    + "0000 and 9999"))
        }
        event.timestamp = floored
        switch event.type {
        case .purchase: event.value = purchaseRevenue ?? valueParameter
        case .refund: event.value = refundValue ?? valueParameter
        default: event.value = valueParameter
        }
        event.quantity = totalItemQuantity.map(Double.init) ?? items.quantity
        event.category = items.firstCategory
        event.productID = items.firstProductID
        return .success(event)
    }

    /// The README's table of `event_name`s.
    static func eventType(_ name: JSONText) -> EventType {
        switch name {
        case "page_view", "view_cart": .pageView
        case "session_start": .sessionStart
        case "view_item", "view_item_list": .productView
        case "search", "view_search_results": .search
        case "add_to_cart": .addToCart
        case "remove_from_cart": .removeFromCart
        case "begin_checkout", "add_shipping_info", "add_payment_info": .checkoutStart
        case "purchase": .purchase
        case "refund": .refund
        default: .other
        }
    }

    private mutating func readRow(_ key: JSONText) throws(EventRejection) {
        switch key {
        case "event_name": eventName = try readOptionalStringToken("event_name")
        case "event_timestamp": microseconds = try readOptionalInteger("event_timestamp")
        case "user_id": userID = try readOptionalStringToken("user_id")
        case "user_pseudo_id": pseudoID = try readOptionalStringToken("user_pseudo_id")
        case "event_params":
            valueParameter = nil
            event.sessionID = nil
            try readOptionalArray("event_params") { reader, index throws(EventRejection) in
                try reader.readParameter(at: index)
            }
        case "ecommerce":
            try readOptionalObject("ecommerce") { reader, key throws(EventRejection) in
                try reader.readEcommerce(key)
            }
        case "items":
            items = ProductLines()
            try readOptionalArray("items") { reader, index throws(EventRejection) in
                reader.line = ProductLines.Line()
                try reader.readOptionalObject("items[\(index)]") { reader, key throws(EventRejection) in
                    try reader.readItem(key, index)
                }
                reader.items.add(reader.line, at: index)
            }
        case "device": event.device = try readStringMember("category", of: "device")
        case "traffic_source": event.channel = try readStringMember("source", of: "traffic_source")
        case "geo": event.country = try readStringMember("country", of: "geo")
        default: try scanner.skipValue()
        }
    }

    private mutating func readParameter(at index: Int) throws(EventRejection) {
        parameter = Parameter()
        try readOptionalObject("event_params[\(index)]") { reader, key throws(EventRejection) in
            switch key {
            case "key": reader.parameter.key = try reader.readOptionalStringToken("event_params[\(index)].key")
            case "value":
                try reader.readOptionalObject("event_params[\(index)].value") { reader, key throws(EventRejection) in
                    try reader.readParameterValue(key, index)
                }
            default: try reader.scanner.skipValue()
            }
        }
        guard let key = parameter.key else { return }
        switch JSONText(key, in: scanner) {
        case "ga_session_id":
            event.sessionID = parameter.integer.map { String($0) } ?? parameter.string.map { scanner.string($0) }
        case "value":
            valueParameter = parameter.number ?? parameter.integer.map(Double.init)
        default: break
        }
    }

    private mutating func readParameterValue(_ key: JSONText, _ index: Int) throws(EventRejection) {
        switch key {
        case "string_value":
            parameter.string = try readOptionalStringToken("event_params[\(index)].value.string_value")
        case "int_value": parameter.integer = try readOptionalInteger("event_params[\(index)].value.int_value")
        case "float_value": parameter.number = try readOptionalNumber("event_params[\(index)].value.float_value")
        case "double_value": parameter.number = try readOptionalNumber("event_params[\(index)].value.double_value")
        default: try scanner.skipValue()
        }
    }

    private mutating func readEcommerce(_ key: JSONText) throws(EventRejection) {
        switch key {
        case "purchase_revenue": purchaseRevenue = try readOptionalNumber("ecommerce.purchase_revenue")
        case "refund_value": refundValue = try readOptionalNumber("ecommerce.refund_value")
        case "total_item_quantity": totalItemQuantity = try readOptionalInteger("ecommerce.total_item_quantity")
        default: try scanner.skipValue()
        }
    }

    private mutating func readItem(_ key: JSONText, _ index: Int) throws(EventRejection) {
        switch key {
        case "item_category": line.category = try readOptionalString("items[\(index)].item_category")
        case "item_id": line.productID = try readOptionalString("items[\(index)].item_id")
        case "quantity": line.quantity = try readOptionalInteger("items[\(index)].quantity").map(Double.init)
        case "price": line.price = try readOptionalNumber("items[\(index)].price")
        default: try scanner.skipValue()
        }
    }
}
