extension Event {
    /// The event as one line of the input JSON of DESIGN §3 (no trailing newline): what producers send and what
    /// `segmenter generate` writes. It decodes back to an equal event with ``EventDecoder``. `properties` appears
    /// only when some property is set; a non-finite `value` or `quantity` (which no decoded event has) is left out,
    /// because JSON cannot spell it.
    public func jsonLine() -> String {
        var line = "{"
        line.reserveCapacity(256)
        var separator = ""
        func appendString(_ key: String, _ value: String?) {
            guard let value else { return }
            line += separator + "\"" + key + "\":\""
            JSONString.appendEscaped(value, to: &line)
            line += "\""
            separator = ","
        }
        func appendNumber(_ key: String, _ value: Double?) {
            guard let value, value.isFinite else { return }
            line += separator + "\"" + key + "\":"
            // Whole amounts print as integers ("2", not "2.0"); others use Swift's shortest round-trip form.
            if value == value.rounded(), abs(value) < 1e15 {
                line += String(Int64(value))
            } else {
                line += value.description
            }
            separator = ","
        }
        appendString("event_id", eventID)
        appendString("customer_id", customerID)
        appendString("type", type.wireName)
        appendString("timestamp", RFC3339.format(timestamp))
        appendString("session_id", sessionID)
        let hasProperties = [category, productID, device, channel, country].contains { $0 != nil }
            || value?.isFinite == true || quantity?.isFinite == true
        if hasProperties {
            line += ",\"properties\":{"
            separator = ""
            appendNumber("value", value)
            appendNumber("quantity", quantity)
            appendString("category", category)
            appendString("product_id", productID)
            appendString("device", device)
            appendString("channel", channel)
            appendString("country", country)
            line += "}"
        }
        line += "}"
        return line
    }
}
