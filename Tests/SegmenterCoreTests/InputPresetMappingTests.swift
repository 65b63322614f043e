import Foundation
import Testing

@testable import SegmenterCore

private typealias F = InputPresetFixtures

@Suite("input presets: every row of the Segment table")
struct SegmentMappingTests {
    static let names: [(String, EventType)] = [
        ("Product Viewed", .productView), ("Product List Viewed", .productView), ("Products Searched", .search),
        ("Product Added", .addToCart), ("Product Removed", .removeFromCart), ("Cart Viewed", .pageView),
        ("Checkout Started", .checkoutStart), ("Checkout Step Viewed", .checkoutStart),
        ("Checkout Step Completed", .checkoutStart), ("Payment Info Entered", .checkoutStart),
        ("Order Completed", .purchase), ("Order Refunded", .refund), ("Coupon Applied", .other),
        ("order completed", .other),
    ]

    @Test("each track event name becomes its native type; other names are other", arguments: names)
    func trackNames(name: String, type: EventType) throws {
        #expect(try F.event(.segment, ["event": name]).type == type)
    }

    @Test("page and screen calls are page views; a call type we do not know is other")
    func pageAndScreen() throws {
        #expect(try F.event(.segment, ["type": "page", "event": nil]).type == .pageView)
        #expect(try F.event(.segment, ["type": "screen", "event": nil]).type == .pageView)
        #expect(try F.event(.segment, ["type": "track", "event": nil]).type == .other)
        #expect(try F.event(.segment, ["type": "video"]).type == .other)
    }

    @Test("identify, alias and group are not behaviour: skipped with not_behaviour, which is no dead letter",
          arguments: ["identify", "alias", "group"])
    func notBehaviour(call: String) throws {
        let json = #"{"type":"\#(call)","userId":"c-1","anonymousId":"a-1","traits":{"plan":"gold"}}"#
        let result = EventDecoder(format: .segment).decode(Array(json.utf8))
        guard case .failure(let rejection) = result else { Issue.record("\(call) decoded as an event"); return }
        #expect(rejection.code == .notBehaviour && !rejection.isDeadLetter)
        #expect(rejection.message.contains("\"\(call)\""))
    }

    @Test("customer = userId (anonymousId kept beside it), else anonymousId; neither is a missing field")
    func customer() throws {
        let known = try F.event(.segment, [:])
        #expect(known.customerID == "c-1" && known.anonymousID == "a-1")
        let anonymous = try F.event(.segment, ["userId": nil])
        #expect(anonymous.customerID == "a-1" && anonymous.anonymousID == nil)
        #expect(try F.event(.segment, ["userId": ""]).customerID == "a-1")
        #expect(try F.event(.segment, ["userId": NSNull()]).customerID == "a-1")
        let neither = EventDecoder(format: .segment).decode(Array(
            try F.json(F.replacing("anonymousId", in: F.replacing("userId", in: F.tree(F.segment), with: nil),
                                   with: nil)).utf8))
        #expect(neither.rejection?.code == .missingField)
        #expect(neither.rejection?.message.contains("\"userId\" is missing, and so is \"anonymousId\"") == true)
    }

    @Test("event id = messageId; time = timestamp, else originalTimestamp, else receivedAt")
    func idAndTime() throws {
        let t = RFC3339.parse("2026-03-01T12:00:00Z")!
        #expect(try F.event(.segment, [:]).eventID == "m-1")
        #expect(try F.event(.segment, [:]).timestamp == t)
        #expect(try F.event(.segment, ["timestamp": nil]).timestamp == t - 1_000)
        #expect(try F.event(.segment, ["timestamp": nil, "originalTimestamp": nil]).timestamp == t + 1_000)
        let none = try F.json(["type": "page", "userId": "c-1"])
        #expect(EventDecoder(format: .segment).decode(Array(none.utf8)).rejection?.code == .missingField)
    }

    @Test("purchase value: revenue, else total, else the sum of products price × quantity")
    func purchaseValue() throws {
        #expect(try F.event(.segment, [:]).value == 100)
        #expect(try F.event(.segment, ["properties.revenue": nil]).value == 110)
        #expect(try F.event(.segment, ["properties.revenue": nil, "properties.total": nil]).value == 100)
        let noQuantity = try F.event(.segment, [
            "properties.revenue": nil, "properties.total": nil, "properties.products[0].quantity": nil,
        ])
        #expect(noQuantity.value == 75)
        #expect(try F.event(.segment, ["event": "Checkout Started"]).value == 100)
    }

    @Test("refund value: total, else revenue")
    func refundValue() throws {
        #expect(try F.event(.segment, ["event": "Order Refunded"]).value == 110)
        #expect(try F.event(.segment, ["event": "Order Refunded", "properties.total": nil]).value == 100)
    }

    @Test("product events: value = price × quantity (quantity 1 when absent)",
          arguments: ["Product Viewed", "Product Added", "Product Removed"])
    func productValue(name: String) throws {
        let product: [String: Any?] = ["event": name, "properties.products": nil]
        #expect(try F.event(.segment, product).value == 40)
        #expect(try F.event(.segment, product.merging(["properties.quantity": nil]) { $1 }).value == 10)
        #expect(try F.event(.segment, product.merging(["properties.price": nil]) { $1 }).value == nil)
    }

    @Test("quantity: the sum of products quantity, else properties.quantity")
    func quantity() throws {
        #expect(try F.event(.segment, [:]).quantity == 3)
        #expect(try F.event(.segment, ["properties.products": nil]).quantity == 4)
    }

    @Test("category: properties.category, else the first product's; product id likewise")
    func category() throws {
        let first = try F.event(.segment, ["properties.category": nil, "properties.product_id": nil])
        #expect(first.category == "shoes" && first.productID == "p-1")
        let own = try F.event(.segment, ["properties.category": "bags", "properties.product_id": "p-9"])
        #expect(own.category == "bags" && own.productID == "p-9")
    }

    @Test("device, channel, country and session from context; no sessionId leaves the 30-minute rule")
    func context() throws {
        let event = try F.event(.segment, [:])
        #expect(event.device == "mobile" && event.channel == "email" && event.country == "DE")
        #expect(event.sessionID == "s-1")
        #expect(try F.event(.segment, ["context.sessionId": 1_772_366_400_000]).sessionID == "1772366400000")
        #expect(try F.event(.segment, ["context.sessionId": nil]).sessionID == nil)
    }
}

@Suite("input presets: every row of the GA4 table")
struct GA4MappingTests {
    static let names: [(String, EventType)] = [
        ("page_view", .pageView), ("session_start", .sessionStart), ("view_item", .productView),
        ("view_item_list", .productView), ("search", .search), ("view_search_results", .search),
        ("add_to_cart", .addToCart), ("remove_from_cart", .removeFromCart), ("view_cart", .pageView),
        ("begin_checkout", .checkoutStart), ("add_shipping_info", .checkoutStart),
        ("add_payment_info", .checkoutStart), ("purchase", .purchase), ("refund", .refund),
        ("first_visit", .other), ("user_engagement", .other),
    ]

    @Test("each event_name becomes its native type; other names are other", arguments: names)
    func eventNames(name: String, type: EventType) throws {
        #expect(try F.event(.ga4, ["event_name": name]).type == type)
    }

    @Test("customer = user_id (user_pseudo_id kept beside it), else user_pseudo_id")
    func customer() throws {
        let known = try F.event(.ga4, [:])
        #expect(known.customerID == "c-1" && known.anonymousID == "123.456")
        #expect(try F.event(.ga4, ["user_id": nil]).customerID == "123.456")
        #expect(try F.event(.ga4, ["user_id": NSNull()]).customerID == "123.456")
    }

    @Test("time = event_timestamp in microseconds, as a number or a string; no event id")
    func time() throws {
        let t = RFC3339.parse("2026-03-01T12:00:00Z")!
        #expect(try F.event(.ga4, [:]).timestamp == t)
        #expect(try F.event(.ga4, ["event_timestamp": "1772366400123999"]).timestamp == t + 123)
        #expect(try F.event(.ga4, [:]).eventID == nil)
        let missing = try F.json(["event_name": "purchase", "user_id": "c-1"])
        #expect(EventDecoder(format: .ga4).decode(Array(missing.utf8)).rejection?.code == .missingField)
    }

    @Test("purchase value: ecommerce.purchase_revenue, else the value param")
    func purchaseValue() throws {
        #expect(try F.event(.ga4, [:]).value == 100)
        #expect(try F.event(.ga4, ["ecommerce.purchase_revenue": nil]).value == 129.9)
    }

    @Test("refund value: ecommerce.refund_value, else the value param")
    func refundValue() throws {
        #expect(try F.event(.ga4, ["event_name": "refund", "ecommerce.refund_value": 20]).value == 20)
        #expect(try F.event(.ga4, ["event_name": "refund", "ecommerce.refund_value": nil]).value == 129.9)
    }

    @Test("product events: the value param, which may be an int_value",
          arguments: ["view_item", "add_to_cart", "remove_from_cart"])
    func productValue(name: String) throws {
        #expect(try F.event(.ga4, ["event_name": name]).value == 129.9)
        let integer: [String: Any?] = ["event_name": name, "event_params[1].value": ["int_value": "12"]]
        #expect(try F.event(.ga4, integer).value == 12)
    }

    @Test("quantity: ecommerce.total_item_quantity, else the sum of items quantity")
    func quantity() throws {
        #expect(try F.event(.ga4, ["ecommerce.total_item_quantity": "7"]).quantity == 7)
        #expect(try F.event(.ga4, ["ecommerce.total_item_quantity": nil]).quantity == 3)
    }

    @Test("category, device, channel and session from items[0], device, traffic_source and ga_session_id")
    func fields() throws {
        let event = try F.event(.ga4, [:])
        #expect(event.category == "shoes" && event.productID == "p-1")
        #expect(event.device == "mobile" && event.channel == "google" && event.country == "Germany")
        #expect(event.sessionID == "1772366000")
        let textSession: [String: Any?] = ["event_params[0].value": ["string_value": "s-9"]]
        #expect(try F.event(.ga4, textSession).sessionID == "s-9")
    }
}

@Suite("input presets: every row of the Snowplow table")
struct SnowplowMappingTests {
    static let actions: [(String, EventType)] = [
        ("product_view", .productView), ("list_view", .productView), ("add_to_cart", .addToCart),
        ("remove_from_cart", .removeFromCart), ("checkout_step", .checkoutStart), ("transaction", .purchase),
        ("refund", .refund), ("promo_view", .other), ("list_click", .other),
    ]

    @Test("each e-commerce action type becomes its native type; other types are other", arguments: actions)
    func actionTypes(name: String, type: EventType) throws {
        #expect(try F.event(.snowplow, ["\(F.action).type": name]).type == type)
    }

    @Test("page_view and site_search events; other event names are other")
    func eventNames() throws {
        #expect(try F.event(.snowplow, ["event_name": "page_view"]).type == .pageView)
        #expect(try F.event(.snowplow, ["event_name": "site_search"]).type == .search)
        #expect(try F.event(.snowplow, ["event_name": "link_click"]).type == .other)
        #expect(try F.event(.snowplow, [F.action: nil]).type == .other)
    }

    @Test("customer = user_id (domain_userid kept beside it), else domain_userid; event id; session")
    func identity() throws {
        let event = try F.event(.snowplow, [:])
        #expect(event.customerID == "c-1" && event.anonymousID == "d-1")
        #expect(event.eventID == "e-1" && event.sessionID == "s-1")
        #expect(try F.event(.snowplow, ["user_id": nil]).customerID == "d-1")
    }

    @Test("time = derived_tstamp, else collector_tstamp")
    func time() throws {
        let t = RFC3339.parse("2026-03-01T12:00:00Z")!
        #expect(try F.event(.snowplow, [:]).timestamp == t)
        #expect(try F.event(.snowplow, ["derived_tstamp": nil]).timestamp == t + 1_000)
    }

    @Test("purchase value: the transaction's revenue; refund: the refund's refund_amount")
    func orderValues() throws {
        #expect(try F.event(.snowplow, [:]).value == 100)
        #expect(try F.event(.snowplow, ["\(F.action).type": "refund"]).value == 10)
    }

    @Test("product events: the sum of price × quantity over the product entities",
          arguments: ["product_view", "add_to_cart", "remove_from_cart"])
    func productValue(type: String) throws {
        #expect(try F.event(.snowplow, ["\(F.action).type": type]).value == 100)
    }

    @Test("quantity: the transaction's total_quantity, else the product entities' sum; category the first's")
    func quantityAndCategory() throws {
        #expect(try F.event(.snowplow, [:]).quantity == 3)
        #expect(try F.event(.snowplow, ["\(F.transaction)[0].total_quantity": 9]).quantity == 9)
        #expect(try F.event(.snowplow, ["\(F.transaction)[0].total_quantity": nil]).quantity == 3)
        #expect(try F.event(.snowplow, [F.transaction: nil, "\(F.product)[1].quantity": 5]).quantity == 7)
        let event = try F.event(.snowplow, [:])
        #expect(event.category == "shoes" && event.productID == "p-1")
        #expect(event.channel == "email" && event.country == "DE")
    }
}

extension Result where Success == Event, Failure == EventRejection {
    var rejection: EventRejection? { if case .failure(let r) = self { r } else { nil } }
}
