/// Writes one JSON object, member by member, with the project's escaping (``JSONString``) and number spelling:
/// whole amounts as integers (`2`, not `2.0`), others in Swift's shortest round-trip form. Absent (nil) values and
/// empty nested objects are left out, so the writer of an event can hand over every optional field as it is.
struct JSONObjectWriter {
    private(set) var text = "{"
    private var isEmpty = true

    init(capacity: Int = 256) {
        text.reserveCapacity(capacity)
    }

    /// The finished object.
    var json: String { text + "}" }

    private mutating func key(_ name: String) {
        text += isEmpty ? "\"" : ",\""
        text += name
        text += "\":"
        isEmpty = false
    }

    mutating func string(_ name: String, _ value: String?) {
        guard let value else { return }
        key(name)
        text += "\""
        JSONString.appendEscaped(value, to: &text)
        text += "\""
    }

    mutating func number(_ name: String, _ value: Double?) {
        guard let value, value.isFinite else { return }
        key(name)
        if value == value.rounded(), abs(value) < 1e15 {
            text += String(Int64(value))
        } else {
            text += value.description
        }
    }

    mutating func integer(_ name: String, _ value: Int64?) {
        guard let value else { return }
        key(name)
        text += String(value)
    }

    /// A nested object, left out when `body` writes nothing into it.
    mutating func object(_ name: String, _ body: (inout JSONObjectWriter) -> Void) {
        var child = JSONObjectWriter(capacity: 64)
        body(&child)
        guard !child.isEmpty else { return }
        key(name)
        text += child.json
    }

    /// An array of objects, one per call of `body`.
    mutating func objects(_ name: String, count: Int, _ body: (Int, inout JSONObjectWriter) -> Void) {
        guard count > 0 else { return }
        key(name)
        text += "["
        for index in 0..<count {
            var child = JSONObjectWriter(capacity: 64)
            body(index, &child)
            text += index == 0 ? child.json : "," + child.json
        }
        text += "]"
    }
}
