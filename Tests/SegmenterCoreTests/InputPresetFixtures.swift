import Foundation
import Testing

@testable import SegmenterCore

/// One message per preset that carries every field the preset reads, and the JSON paths of those fields: the
/// rejection tests break each path in turn, the mapping tests start from these messages.
enum InputPresetFixtures {
    static let segment = """
        {"type":"track","event":"Order Completed","userId":"c-1","anonymousId":"a-1","messageId":"m-1",\
        "timestamp":"2026-03-01T12:00:00Z","originalTimestamp":"2026-03-01T11:59:59Z",\
        "receivedAt":"2026-03-01T12:00:01Z",\
        "context":{"sessionId":"s-1","device":{"type":"mobile"},"campaign":{"source":"email"},\
        "location":{"country":"DE"}},\
        "properties":{"revenue":100,"total":110,"price":10,"quantity":4,"category":"shoes","product_id":"p-1",\
        "products":[{"product_id":"p-1","category":"shoes","price":25,"quantity":2},\
        {"product_id":"p-2","category":"books","price":50,"quantity":1}]}}
        """

    static let segmentPaths = [
        "type", "event", "userId", "anonymousId", "messageId", "timestamp", "originalTimestamp", "receivedAt",
        "context", "context.sessionId", "context.device", "context.device.type", "context.campaign",
        "context.campaign.source", "context.location", "context.location.country", "properties",
        "properties.revenue", "properties.total", "properties.price", "properties.quantity", "properties.category",
        "properties.product_id", "properties.products", "properties.products[1]", "properties.products[0].price",
        "properties.products[1].quantity", "properties.products[0].category", "properties.products[0].product_id",
    ]

    static let ga4 = """
        {"event_date":"20260301","event_timestamp":1772366400000000,"event_name":"purchase",\
        "event_params":[{"key":"ga_session_id","value":{"int_value":1772366000}},\
        {"key":"value","value":{"double_value":129.9}},{"key":"page_title","value":{"string_value":"Checkout"}},\
        {"key":"engagement","value":{"float_value":1.5}}],\
        "user_id":"c-1","user_pseudo_id":"123.456","device":{"category":"mobile"},"geo":{"country":"Germany"},\
        "traffic_source":{"source":"google"},\
        "ecommerce":{"purchase_revenue":100,"refund_value":0,"total_item_quantity":3},\
        "items":[{"item_id":"p-1","item_category":"shoes","quantity":2,"price":25},\
        {"item_id":"p-2","item_category":"books","quantity":1,"price":50}]}
        """

    static let ga4Paths = [
        "event_name", "event_timestamp", "user_id", "user_pseudo_id", "event_params", "event_params[1]",
        "event_params[0].key", "event_params[0].value", "event_params[0].value.int_value",
        "event_params[1].value.double_value", "event_params[2].value.string_value",
        "event_params[3].value.float_value", "ecommerce", "ecommerce.purchase_revenue", "ecommerce.refund_value",
        "ecommerce.total_item_quantity", "items", "items[1]", "items[0].item_id", "items[0].item_category",
        "items[1].quantity", "items[0].price", "device", "device.category", "geo", "geo.country", "traffic_source",
        "traffic_source.source",
    ]

    static let action = "unstruct_event_com_snowplowanalytics_snowplow_ecommerce_snowplow_ecommerce_action_1"
    static let product = "contexts_com_snowplowanalytics_snowplow_ecommerce_product_1"
    static let transaction = "contexts_com_snowplowanalytics_snowplow_ecommerce_transaction_1"
    static let refund = "contexts_com_snowplowanalytics_snowplow_ecommerce_refund_1"

    static let snowplow = """
        {"app_id":"shop","platform":"web","collector_tstamp":"2026-03-01T12:00:01.000Z",\
        "derived_tstamp":"2026-03-01T12:00:00.000Z","event":"unstruct","event_id":"e-1",\
        "event_name":"snowplow_ecommerce_action","user_id":"c-1","domain_userid":"d-1","domain_sessionid":"s-1",\
        "geo_country":"DE","mkt_source":"email",\
        "\(action)":{"type":"transaction"},\
        "\(product)":[{"id":"p-1","category":"shoes","price":25,"quantity":2},\
        {"id":"p-2","category":"books","price":50,"quantity":1}],\
        "\(transaction)":[{"transaction_id":"t-1","revenue":100,"total_quantity":3}],\
        "\(refund)":[{"transaction_id":"t-1","refund_amount":10}]}
        """

    static let snowplowPaths = [
        "event_name", "event_id", "user_id", "domain_userid", "derived_tstamp", "collector_tstamp",
        "domain_sessionid", "mkt_source", "geo_country", action, "\(action).type", product, "\(product)[1]",
        "\(product)[0].id", "\(product)[0].category", "\(product)[1].price", "\(product)[0].quantity", transaction,
        "\(transaction)[0]", "\(transaction)[0].revenue", "\(transaction)[0].total_quantity", refund, "\(refund)[0]",
        "\(refund)[0].refund_amount",
    ]

    static func message(_ format: InputFormat) -> String {
        switch format {
        case .segment: segment
        case .ga4: ga4
        case .snowplow: snowplow
        case .native, .auto: ""
        }
    }

    static func paths(_ format: InputFormat) -> [String] {
        switch format {
        case .segment: segmentPaths
        case .ga4: ga4Paths
        case .snowplow: snowplowPaths
        case .native, .auto: []
        }
    }

    /// The message as a JSON tree, to be changed at a path and written again.
    static func tree(_ json: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(json.utf8))
    }

    static func json(_ tree: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: tree), as: UTF8.self)
    }

    /// `tree` with the value at `path` (`a.b[2].c`; names may contain anything but `.` and `[`) replaced.
    static func replacing(_ path: String, in tree: Any, with value: Any?) -> Any {
        var steps: [Either] = []
        for part in path.split(separator: ".") {
            let pieces = part.split(separator: "[")
            steps.append(.key(String(pieces[0])))
            for index in pieces.dropFirst() { steps.append(.index(Int(index.dropLast())!)) }
        }
        return replace(ArraySlice(steps), in: tree, with: value)
    }

    private enum Either {
        case key(String)
        case index(Int)
    }

    private static func replace(_ steps: ArraySlice<Either>, in tree: Any, with value: Any?) -> Any {
        guard let step = steps.first else { return value ?? NSNull() }
        switch step {
        case .key(let key):
            var object = tree as! [String: Any]
            if steps.count == 1, value == nil {
                object[key] = nil
            } else {
                object[key] = replace(steps.dropFirst(), in: object[key]!, with: value)
            }
            return object
        case .index(let index):
            var array = tree as! [Any]
            array[index] = replace(steps.dropFirst(), in: array[index], with: value)
            return array
        }
    }

    /// Decodes `json` with `format`, requiring success.
    static func event(_ json: String, _ format: InputFormat) throws -> Event {
        switch EventDecoder(format: format).decode(Array(json.utf8)) {
        case .success(let event): return event
        case .failure(let rejection): throw rejection
        }
    }

    /// `message(format)` changed at each path in `changes` (nil removes the member), decoded.
    static func event(_ format: InputFormat, _ changes: [String: Any?]) throws -> Event {
        var tree = try tree(message(format))
        for (path, value) in changes.sorted(by: { $0.key < $1.key }) {
            tree = replacing(path, in: tree, with: value)
        }
        return try event(try json(tree), format)
    }
}
