/// The native event in each preset's shape: what `segmenter generate --format` writes, and what the tests feed the
/// preset readers to check that a stream means the same in every format. Each writer is the README's table read
/// backwards, choosing for every native type the first name its row lists.
extension Event {
    /// Unit price of a one-product event: its value spread over its quantity.
    private var unitPrice: Double? { value.map { $0 / (quantity ?? 1) } }

    func segmentJSONLine() -> String {
        var line = JSONObjectWriter(capacity: 512)
        let name: String? =
            switch type {
            case .pageView: nil
            case .sessionStart: "Session Started"
            case .productView: "Product Viewed"
            case .search: "Products Searched"
            case .addToCart: "Product Added"
            case .removeFromCart: "Product Removed"
            case .checkoutStart: "Checkout Started"
            case .purchase: "Order Completed"
            case .refund: "Order Refunded"
            case .other: "Other Event"
            }
        line.string("type", name == nil ? "page" : "track")
        line.string("event", name)
        line.string("messageId", eventID)
        line.string("userId", customerID)
        line.string("anonymousId", anonymousID)
        line.string("timestamp", RFC3339.format(timestamp))
        line.object("context") { context in
            context.string("sessionId", sessionID)
            context.object("device") { $0.string("type", device) }
            context.object("campaign") { $0.string("source", channel) }
            context.object("location") { $0.string("country", country) }
        }
        line.object("properties") { properties in
            switch type {
            case .purchase, .checkoutStart, .refund:
                properties.number(type == .refund ? "total" : "revenue", value)
                properties.objects("products", count: 1) { _, product in
                    product.string("product_id", productID)
                    product.string("category", category)
                    product.number("quantity", quantity)
                }
            default:
                properties.string("product_id", productID)
                properties.string("category", category)
                properties.number("price", unitPrice)
                properties.number("quantity", quantity)
            }
        }
        return line.json
    }

    func ga4JSONLine() -> String {
        var line = JSONObjectWriter(capacity: 512)
        let date = RFC3339.format(timestamp)
        line.string("event_date", String(date.prefix(10).filter { $0 != "-" }))
        line.integer("event_timestamp", timestamp * 1_000)
        let name =
            switch type {
            case .sessionStart: "session_start"
            case .pageView: "page_view"
            case .productView: "view_item"
            case .search: "search"
            case .addToCart: "add_to_cart"
            case .removeFromCart: "remove_from_cart"
            case .checkoutStart: "begin_checkout"
            case .purchase: "purchase"
            case .refund: "refund"
            case .other: "other_event"
            }
        line.string("event_name", name)
        let parameterValue = type == .purchase || type == .refund ? nil : value
        let parameters = [sessionID.map { ("ga_session_id", $0) }, parameterValue.map { ("value", $0.description) }]
            .compactMap { $0 }
        line.objects("event_params", count: parameters.count) { index, parameter in
            let (key, text) = parameters[index]
            parameter.string("key", key)
            parameter.object("value") { value in
                if key == "value" {
                    value.number("double_value", parameterValue)
                } else if let number = Int64(text) {
                    value.integer("int_value", number)
                } else {
                    value.string("string_value", text)
                }
            }
        }
        line.string("user_id", customerID)
        line.string("user_pseudo_id", anonymousID)
        line.object("device") { $0.string("category", device) }
        line.object("geo") { $0.string("country", country) }
        line.object("traffic_source") { $0.string("source", channel) }
        let isOrder = type == .purchase || type == .refund || type == .checkoutStart
        line.object("ecommerce") { ecommerce in
            if type == .purchase { ecommerce.number("purchase_revenue", value) }
            if type == .refund { ecommerce.number("refund_value", value) }
            if isOrder { ecommerce.number("total_item_quantity", quantity) }
        }
        if category != nil || productID != nil || quantity != nil {
            line.objects("items", count: 1) { _, item in
                item.string("item_id", productID)
                item.string("item_category", category)
                if !isOrder {
                    item.number("quantity", quantity)
                    item.number("price", unitPrice)
                }
            }
        }
        return line.json
    }

    func snowplowJSONLine() -> String {
        var line = JSONObjectWriter(capacity: 768)
        let action: String? =
            switch type {
            case .productView: "product_view"
            case .addToCart: "add_to_cart"
            case .removeFromCart: "remove_from_cart"
            case .checkoutStart: "checkout_step"
            case .purchase: "transaction"
            case .refund: "refund"
            case .sessionStart, .pageView, .search, .other: nil
            }
        let name =
            switch type {
            case .pageView: "page_view"
            case .search: "site_search"
            case .sessionStart: "session_start"
            case .other: "other_event"
            default: "snowplow_ecommerce_action"
            }
        let time = RFC3339.format(timestamp)
        line.string("app_id", "shop")
        line.string("platform", "web")
        line.string("collector_tstamp", time)
        line.string("derived_tstamp", time)
        line.string("event", action == nil && type == .pageView ? "page_view" : "unstruct")
        line.string("event_id", eventID)
        line.string("event_name", name)
        line.string("user_id", customerID)
        line.string("domain_userid", anonymousID)
        line.string("domain_sessionid", sessionID)
        line.string("geo_country", country)
        line.string("mkt_source", channel)
        if let action {
            line.object("unstruct_event_com_snowplowanalytics_snowplow_ecommerce_snowplow_ecommerce_action_1") {
                $0.string("type", action)
            }
        }
        if category != nil || productID != nil {
            line.objects("contexts_com_snowplowanalytics_snowplow_ecommerce_product_1", count: 1) { _, product in
                product.string("id", productID)
                product.string("category", category)
                if type != .purchase && type != .refund { product.number("price", unitPrice) }
                if type != .purchase { product.number("quantity", quantity) }
                product.string("currency", "EUR")
            }
        }
        if type == .purchase {
            line.objects("contexts_com_snowplowanalytics_snowplow_ecommerce_transaction_1", count: 1) { _, order in
                order.number("revenue", value)
                order.number("total_quantity", quantity)
                order.string("currency", "EUR")
            }
        }
        if type == .refund {
            line.objects("contexts_com_snowplowanalytics_snowplow_ecommerce_refund_1", count: 1) { _, refund in
                refund.number("refund_amount", value)
                refund.string("currency", "EUR")
            }
        }
        return line.json
    }
}
