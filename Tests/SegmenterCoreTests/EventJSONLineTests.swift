import Testing
@testable import SegmenterCore

@Suite("Event.jsonLine and JSONString")
struct EventJSONLineTests {
    @Test("jsonLine writes the §3 format, with properties only when present")
    func format() {
        let bare = Event(customerID: "c-1", type: .search, timestamp: 1_772_366_400_031)
        #expect(bare.jsonLine() == #"{"customer_id":"c-1","type":"search","timestamp":"2026-03-01T12:00:00.031Z"}"#)
        let full = Event(
            eventID: "e-1", customerID: "c-1", type: .purchase, timestamp: 0, sessionID: "s-1", value: 129.9,
            quantity: 2, category: "shoes", productID: "p-3", device: "mobile", channel: "email", country: "DE")
        #expect(
            full.jsonLine()
                == #"{"event_id":"e-1","customer_id":"c-1","type":"purchase","timestamp":"1970-01-01T00:00:00.000Z","#
                + #""session_id":"s-1","properties":{"value":129.9,"quantity":2,"category":"shoes","product_id":"p-3","#
                + #""device":"mobile","channel":"email","country":"DE"}}"#)
    }

    @Test("JSONString.escape escapes quotes, backslashes and control characters and keeps other text")
    func escape() {
        #expect(JSONString.escape("plain café ☕") == "plain café ☕")
        #expect(JSONString.escape("a\"b\\c\nd\re\tf\u{08}\u{0C}\u{01}\u{1F}") == #"a\"b\\c\nd\re\tf\b\f\u0001\u001f"#)
        #expect(JSONString.quoted("x\"") == #""x\"""#)
    }

    @Test("jsonLine round-trips through EventDecoder, including awkward strings and numbers")
    func roundTrip() throws {
        let decoder = EventDecoder()
        let awkward = Event(
            eventID: "e-\"quoted\"", customerID: "c-\\\n\t\u{01}é😀", type: .other, timestamp: -1,
            sessionID: "", value: 0.1 + 0.2, quantity: 1e300, category: "\u{7F}", productID: "p/1",
            device: "</script>", channel: "\u{2028}", country: "ÅÄ")
        #expect(try decoder.decode(Array(awkward.jsonLine().utf8)).get() == awkward)
        var shoppers = SyntheticShoppers(customers: 60, events: 5_000, seed: 11)
        while let event = shoppers.next() {
            #expect(try decoder.decode(Array(event.jsonLine().utf8)).get() == event)
        }
    }
}
