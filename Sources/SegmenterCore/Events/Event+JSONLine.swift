extension Event {
    /// The event as one line of the input JSON of DESIGN §3 (no trailing newline): what producers send and what
    /// `segmenter generate` writes. It decodes back to an equal event with ``EventDecoder``. `properties` appears
    /// only when some property is set; a non-finite `value` or `quantity` (which no decoded event has) is left out,
    /// because JSON cannot spell it.
    public func jsonLine() -> String {
        var line = JSONObjectWriter()
        line.string("event_id", eventID)
        line.string("customer_id", customerID)
        line.string("type", type.wireName)
        line.string("timestamp", RFC3339.format(timestamp))
        line.string("session_id", sessionID)
        line.object("properties") { properties in
            properties.number("value", value)
            properties.number("quantity", quantity)
            properties.string("category", category)
            properties.string("product_id", productID)
            properties.string("device", device)
            properties.string("channel", channel)
            properties.string("country", country)
        }
        return line.json
    }

    /// The event as one line in `format`'s shape, following the README's mapping tables backwards, so that it
    /// decodes with that preset to the same type, customer, time, session, money, quantity and category (a product
    /// event's price is value ÷ quantity, so its value may come back one rounding away). For `auto`, native.
    public func jsonLine(format: InputFormat) -> String {
        switch format {
        case .native, .auto: jsonLine()
        case .segment: segmentJSONLine()
        case .ga4: ga4JSONLine()
        case .snowplow: snowplowJSONLine()
        }
    }
}
