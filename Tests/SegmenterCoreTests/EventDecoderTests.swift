import Testing
@testable import SegmenterCore

private let decoder = EventDecoder()

private func decode(_ text: String) -> Result<Event, EventRejection> {
    decoder.decode(Array(text.utf8))
}

private func rejection(_ text: String) -> EventRejection? {
    if case .failure(let rejection) = decode(text) { return rejection }
    return nil
}

private func event(_ text: String) throws -> Event {
    try decode(text).get()
}

private let valid = #"{"customer_id":"c-1","type":"purchase","timestamp":"2026-03-01T12:00:00Z"}"#

@Suite("EventDecoder: rejections")
struct EventDecoderRejectionTests {
    @Test("an event with no customer_id is rejected as missing_field, naming the field")
    func missingCustomerID() {
        let result = rejection(#"{"type":"purchase","timestamp":"2026-03-01T12:00:00Z"}"#)
        #expect(result?.code == .missingField)
        #expect(result?.message == #"field "customer_id" is missing: every event must name its customer"#)
    }

    @Test("missing type or timestamp is rejected as missing_field naming that field")
    func missingTypeOrTimestamp() {
        let noType = rejection(#"{"customer_id":"c-1","timestamp":"2026-03-01T12:00:00Z"}"#)
        #expect(noType?.code == .missingField)
        #expect(noType?.message.hasPrefix(#"field "type" is missing"#) == true)
        let noTimestamp = rejection(#"{"customer_id":"c-1","type":"search"}"#)
        #expect(noTimestamp?.code == .missingField)
        #expect(noTimestamp?.message.hasPrefix(#"field "timestamp" is missing"#) == true)
    }

    @Test("null for a required field counts as missing")
    func nullRequiredField() {
        let result = rejection(#"{"customer_id":null,"type":"purchase","timestamp":"2026-03-01T12:00:00Z"}"#)
        #expect(result?.code == .missingField)
        #expect(result?.message.hasPrefix(#"field "customer_id" is null"#) == true)
    }

    @Test("an empty customer_id is rejected as invalid_customer_id")
    func emptyCustomerID() {
        let result = rejection(#"{"customer_id":"","type":"purchase","timestamp":"2026-03-01T12:00:00Z"}"#)
        #expect(result?.code == .invalidCustomerID)
        #expect(result?.message == #"field "customer_id" is empty: every event must name its customer"#)
    }

    @Test("a customer_id over 256 UTF-8 bytes is rejected; exactly 256 is accepted")
    func overlongCustomerID() throws {
        func message(customerID: String) -> String {
            #"{"customer_id":"\#(customerID)","type":"purchase","timestamp":"2026-03-01T12:00:00Z"}"#
        }
        let result = rejection(message(customerID: String(repeating: "é", count: 129)))
        #expect(result?.code == .invalidCustomerID)
        #expect(result?.message == #"field "customer_id" is 258 bytes, over the 256-byte limit"#)
        let longest = String(repeating: "x", count: 256)
        #expect(try event(message(customerID: longest)).customerID == longest)
    }

    @Test("an unparseable timestamp is rejected as invalid_timestamp, quoting the value")
    func unparseableTimestamp() {
        let result = rejection(#"{"customer_id":"c-1","type":"purchase","timestamp":"yesterday"}"#)
        #expect(result?.code == .invalidTimestamp)
        #expect(
            result?.message
                == #"field "timestamp" = "yesterday" is not RFC 3339 (2026-03-01T12:00:00Z) or epoch milliseconds"#)
        for bad in ["2026-02-30T12:00:00Z", "2026-13-01T00:00:00Z", "2026-03-01T24:00:00Z", "2026-03-01T12:00:00",
            "2026-03-01", "2026-03-01T12:00:00.Z", "2026-03-01T12:00:00+25:00"]
        {
            let text = #"{"customer_id":"c-1","type":"purchase","timestamp":"\#(bad)"}"#
            #expect(rejection(text)?.code == .invalidTimestamp, "\(bad)")
        }
    }

    @Test("a timestamp of the wrong JSON type or a fractional epoch is rejected as invalid_timestamp")
    func timestampOfWrongType() {
        for bad in ["true", "{}", "[1]", "1767225600000.5"] {
            let text = #"{"customer_id":"c-1","type":"purchase","timestamp":\#(bad)}"#
            #expect(rejection(text)?.code == .invalidTimestamp, "\(bad)")
        }
    }

    @Test("non-finite numbers are rejected as non_finite_number naming the field")
    func nonFiniteNumbers() {
        for token in ["1e999", "-1e999", "NaN", "Infinity", "-Infinity"] {
            let text = #"{"customer_id":"c-1","type":"purchase","timestamp":"2026-03-01T12:00:00Z","#
                + #""properties":{"value":\#(token)}}"#
            let result = rejection(text)
            #expect(result?.code == .nonFiniteNumber, "\(token)")
            #expect(result?.message == #"field "properties.value" is not a finite number"#, "\(token)")
        }
        let quantity = rejection(#"{"customer_id":"c-1","type":"search","timestamp":0,"properties":{"quantity":NaN}}"#)
        #expect(quantity?.message == #"field "properties.quantity" is not a finite number"#)
        let timestamp = rejection(#"{"customer_id":"c-1","type":"purchase","timestamp":1e999}"#)
        #expect(timestamp?.code == .nonFiniteNumber)
        #expect(timestamp?.message == #"field "timestamp" is not a finite number"#)
    }

    @Test("a valid JSON value that is not an object is rejected as not_an_object")
    func notAnObject() {
        for (text, kind) in [("[1,2]", "array"), (#""c-1""#, "string"), ("42", "number"), (" null ", "null"),
            ("true", "boolean")]
        {
            let result = rejection(text)
            #expect(result?.code == .notAnObject, "\(text)")
            #expect(result?.message == "message is a JSON \(kind), not an object: every event must be one JSON object")
        }
    }

    @Test("a message over the size limit is rejected as too_large before it is read")
    func tooLarge() {
        let padding = String(repeating: " ", count: 70_000 - valid.utf8.count)
        let result = rejection(valid + padding)
        #expect(result?.code == .tooLarge)
        #expect(result?.message == "message is 70000 bytes, over the 65536-byte limit")
        let exact = EventDecoder(maxMessageBytes: valid.utf8.count)
        #expect((try? exact.decode(Array(valid.utf8)).get()) != nil)
        let oneShort = EventDecoder(maxMessageBytes: valid.utf8.count - 1)
        let tooLarge = EventRejection.tooLarge(bytes: valid.utf8.count, limit: valid.utf8.count - 1)
        #expect(oneShort.decode(Array(valid.utf8)) == .failure(tooLarge))
    }

    @Test("a field of the wrong JSON type is rejected naming the field and both types")
    func wrongFieldType() {
        let cases: [(String, EventRejection.Code, String)] = [
            (#""customer_id":42"#, .invalidCustomerID, #"field "customer_id" must be a string, not a number"#),
            (#""event_id":7"#, .invalidField, #"field "event_id" must be a string, not a number"#),
            (#""type":["purchase"]"#, .invalidField, #"field "type" must be a string, not an array"#),
            (#""session_id":{}"#, .invalidField, #"field "session_id" must be a string, not an object"#),
            (#""properties":"x""#, .invalidField, #"field "properties" must be an object, not a string"#),
            (#""properties":{"value":"12.5"}"#, .invalidField,
                #"field "properties.value" must be a number, not a string"#),
            (#""properties":{"category":true}"#, .invalidField,
                #"field "properties.category" must be a string, not a boolean"#),
        ]
        for (member, code, message) in cases {
            // The bad member comes last so that it overrides any valid one (last key wins).
            let text = #"{"customer_id":"c-1","type":"purchase","timestamp":"2026-03-01T12:00:00Z",\#(member)}"#
            let result = rejection(text)
            #expect(result?.code == code, "\(member)")
            #expect(result?.message == message, "\(member)")
        }
    }

    @Test("malformed JSON is rejected as invalid_json")
    func malformedJSON() {
        let prefix = #"{"customer_id":"c-1","type":"purchase","timestamp":"2026-03-01T12:00:00Z","x":"#
        let cases = [
            "", "   ", "{", valid + "x", valid + "{}", String(valid.dropLast()),
            #"{"customer_id":"c-1,"type":"purchase","timestamp":"2026-03-01T12:00:00Z"}"#,
            #"{"customer_id":"c\q","type":"purchase","timestamp":"2026-03-01T12:00:00Z"}"#,
            #"{"customer_id":"c\u12G4","type":"purchase","timestamp":"2026-03-01T12:00:00Z"}"#,
            #"{"customer_id":"c\ud800","type":"purchase","timestamp":"2026-03-01T12:00:00Z"}"#,
            #"{"customer_id":"c\udc00x","type":"purchase","timestamp":"2026-03-01T12:00:00Z"}"#,
            "{\"customer_id\":\"c\n1\",\"type\":\"purchase\",\"timestamp\":\"2026-03-01T12:00:00Z\"}",
            #"{"customer_id":"c-1" "type":"purchase","timestamp":"2026-03-01T12:00:00Z"}"#,
            #"{"customer_id":"c-1","type":"purchase","timestamp":"2026-03-01T12:00:00Z",}"#,
            #"{customer_id:"c-1","type":"purchase","timestamp":"2026-03-01T12:00:00Z"}"#,
            #"{'customer_id':'c-1'}"#,
            #"{"customer_id":"c-1","type":"purchase","timestamp":01767225600000}"#,
            prefix + "1.}", prefix + "-}", prefix + "1e+}", prefix + "tru}", prefix + "[1,]}", prefix + #"{"a" 1}}"#,
            prefix + "NaN}", prefix + "+1}", prefix + "[1}",
        ]
        for text in cases {
            #expect(rejection(text)?.code == .invalidJSON, "\(text)")
        }
        var invalidUTF8 = Array(valid.utf8)
        invalidUTF8[17] = 0xFF
        #expect((try? decoder.decode(invalidUTF8).get()) == nil)
        if case .failure(let rejection) = decoder.decode(invalidUTF8) { #expect(rejection.code == .invalidJSON) }
    }

    @Test("a JSON syntax error wins over a bad field value before it")
    func syntaxErrorWinsOverFieldProblem() {
        #expect(rejection(#"{"customer_id":"","type":"purchase","timestamp":"yesterday"#)?.code == .invalidJSON)
    }

    @Test("deeply nested unknown values are rejected instead of overflowing the stack")
    func deepNesting() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        let text = #"{"customer_id":"c-1","type":"purchase","timestamp":"2026-03-01T12:00:00Z","x":\#(deep)}"#
        #expect(rejection(text)?.code == .invalidJSON)
    }
}

@Suite("EventDecoder: accepted input")
struct EventDecoderAcceptanceTests {
    @Test("a full §3 event decodes into every field")
    func fullEvent() throws {
        let decoded = try event(
            """
            {"event_id": "e-9f2", "customer_id": "c-1042", "type": "purchase",
             "timestamp": "2026-03-01T12:00:00Z", "session_id": "s-77",
             "properties": {"value": 129.90, "quantity": 2, "category": "shoes", "product_id": "p-3",
                            "device": "mobile", "channel": "email", "country": "DE"}}
            """)
        let expected = Event(
            eventID: "e-9f2", customerID: "c-1042", type: .purchase, timestamp: 1_772_366_400_000, sessionID: "s-77",
            value: 129.90, quantity: 2, category: "shoes", productID: "p-3", device: "mobile", channel: "email",
            country: "DE")
        #expect(decoded == expected)
    }

    @Test("only the required fields are needed; optional ones and null are absent")
    func minimalEvent() throws {
        #expect(try event(valid) == Event(customerID: "c-1", type: .purchase, timestamp: 1_772_366_400_000))
        let withNulls = try event(
            #"{"customer_id":"c-1","type":"purchase","timestamp":"2026-03-01T12:00:00Z","event_id":null,"#
                + #""session_id":null,"properties":{"value":null,"category":null}}"#)
        #expect(withNulls == Event(customerID: "c-1", type: .purchase, timestamp: 1_772_366_400_000))
        let nullProperties = #"{"customer_id":"c-1","type":"search","timestamp":0,"properties":null}"#
        #expect(try event(nullProperties) == Event(customerID: "c-1", type: .search, timestamp: 0))
    }

    @Test("timestamps: RFC 3339 with and without fractional seconds, offsets, and epoch milliseconds")
    func timestamps() throws {
        let cases: [(String, Int64)] = [
            (#""2026-03-01T12:00:00Z""#, 1_772_366_400_000),
            (#""2026-03-01T12:00:00.031Z""#, 1_772_366_400_031),
            (#""2026-03-01T12:00:00.5Z""#, 1_772_366_400_500),
            (#""2026-03-01T12:00:00.123456789Z""#, 1_772_366_400_123),
            (#""2026-03-01T13:30:00+01:30""#, 1_772_366_400_000),
            (#""2026-03-01T07:00:00.250-05:00""#, 1_772_366_400_250),
            (#""2026-03-01t12:00:00z""#, 1_772_366_400_000),
            ("1772366400031", 1_772_366_400_031),
            ("1.772366400031e12", 1_772_366_400_031),
            ("0", 0),
            ("-1000", -1_000),
        ]
        for (json, expected) in cases {
            let text = #"{"customer_id":"c-1","type":"purchase","timestamp":\#(json)}"#
            #expect(try event(text).timestamp == expected, "\(json)")
        }
    }

    @Test("an unknown event type decodes as other; every known wire name decodes to its type")
    func unknownType() throws {
        let text = #"{"customer_id":"c-1","type":"wishlist_add","timestamp":"2026-03-01T12:00:00Z"}"#
        #expect(try event(text).type == .other)
        for type in EventType.allCases {
            let known = #"{"customer_id":"c-1","type":"\#(type.wireName)","timestamp":"2026-03-01T12:00:00Z"}"#
            #expect(try event(known).type == type)
        }
    }

    @Test("unknown fields of every JSON type are skipped, including nested ones and unknown properties")
    func unknownFields() throws {
        let text = """
            { "schema" : 3, "ctx": {"a": [1, {"b": [true, false, null, "x\\"y"]}], "c": {}}, "tags": [],
              "customer_id": "c-1", "ratio": -0.5e-3, "type": "purchase", "timestamp": "2026-03-01T12:00:00Z",
              "properties": {"colour": "red", "value": 10, "dims": {"w": [1, 2]}, "n": null} , "z": "" }\r\n
            """
        #expect(try event(text) == Event(customerID: "c-1", type: .purchase, timestamp: 1_772_366_400_000, value: 10))
    }

    @Test("escapes in strings decode, including \\u escapes and surrogate pairs, also in keys")
    func escapes() throws {
        let text = #"{"customer\u005fid":"c\"\\\/\b\f\n\r\t\u00e9\u20AC\ud83d\ude00","type":"purchase","#
            + #""timestamp":"2026-03-01T12:00:00Z","properties":{"category":"caf\u00e9 ☕"}}"#
        let decoded = try event(text)
        #expect(decoded.customerID == "c\"\\/\u{08}\u{0C}\n\r\té€😀")
        #expect(decoded.category == "café ☕")
    }

    @Test("for a duplicated key the last value wins")
    func duplicateKeys() throws {
        let text = #"{"customer_id":"c-1","type":"search","timestamp":0,"customer_id":"c-2","type":"refund"}"#
        let decoded = try event(text)
        #expect(decoded.customerID == "c-2")
        #expect(decoded.type == .refund)
    }

    @Test("numbers decode to the nearest double, beyond the fast path too")
    func numbers() throws {
        for literal in ["0", "-0", "129.90", "1e2", "2.5E-3", "12345678901234567890", "0.1", "9007199254740993",
            "1.7976931348623157e308", "5e-324", "123.456e-7"]
        {
            let text = #"{"customer_id":"c-1","type":"purchase","timestamp":0,"properties":{"value":\#(literal)}}"#
            #expect(try event(text).value == Double(literal)!, "\(literal)")
        }
    }

    @Test("decoding from a raw buffer gives the same event as from an array")
    func rawBuffer() throws {
        let bytes = Array(valid.utf8)
        let fromBuffer = bytes.withUnsafeBytes { decoder.decode($0) }
        #expect(try fromBuffer.get() == event(valid))
    }
}
