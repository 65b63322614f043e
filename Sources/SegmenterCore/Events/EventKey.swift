/// The member names of the input event (DESIGN §3) that ``EventDecoder`` extracts, recognised straight from
/// UTF-8 bytes so that no `String` is made for a key. Top-level and `properties` names share one enum because
/// they do not collide; the decoder only acts on the ones that belong at its level.
enum EventKey {
    case customerID, type, timestamp, eventID, sessionID, properties
    case value, quantity, category, productID, device, channel, country

    init?(utf8 key: UnsafeBufferPointer<UInt8>) {
        // Dispatch on length first: most keys are then settled by one comparison, with no allocation.
        let match: EventKey? =
            switch key.count {
            case 4: Self.equal(key, "type") ? .type : nil
            case 5: Self.equal(key, "value") ? .value : nil
            case 6: Self.equal(key, "device") ? .device : nil
            case 7: Self.equal(key, "channel") ? .channel : Self.equal(key, "country") ? .country : nil
            case 8:
                Self.equal(key, "event_id") ? .eventID : Self.equal(key, "quantity") ? .quantity
                    : Self.equal(key, "category") ? .category : nil
            case 9: Self.equal(key, "timestamp") ? .timestamp : nil
            case 10:
                Self.equal(key, "session_id") ? .sessionID : Self.equal(key, "properties") ? .properties
                    : Self.equal(key, "product_id") ? .productID : nil
            case 11: Self.equal(key, "customer_id") ? .customerID : nil
            default: nil
            }
        guard let match else { return nil }
        self = match
    }

    /// The ``EventType`` named by the UTF-8 bytes of a `type` value; unknown names are `.other`.
    static func eventType(utf8 name: UnsafeBufferPointer<UInt8>) -> EventType {
        wireNames.first { $0.name.elementsEqual(name) }?.type ?? .other
    }

    private static let wireNames: [(name: [UInt8], type: EventType)] = EventType.allCases.compactMap { type in
        type == .other ? nil : (Array(type.wireName.utf8), type)
    }

    private static func equal(_ bytes: UnsafeBufferPointer<UInt8>, _ literal: StaticString) -> Bool {
        guard bytes.count == literal.utf8CodeUnitCount else { return false }
        let text = literal.utf8Start
        for index in 0..<bytes.count where bytes[index] != text[index] { return false }
        return true
    }
}
