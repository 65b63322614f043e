/// Writing JSON string literals. Shared by every producer of JSON in the project (input events for the
/// generator, segment-change events, dead-letter reasons), so that all escape the same way.
public enum JSONString {
    /// The contents of a JSON string literal for `text`, without the surrounding quotes: `"` and `\` are
    /// backslash-escaped, control characters become `\n`, `\t`, … or `\u00XX`; everything else is kept as UTF-8.
    public static func escape(_ text: String) -> String {
        var output = ""
        appendEscaped(text, to: &output)
        return output
    }

    /// `text` as a complete JSON string literal, quotes included.
    public static func quoted(_ text: String) -> String {
        var output = "\""
        appendEscaped(text, to: &output)
        output.append("\"")
        return output
    }

    /// Appends the escaped contents of `text` (no quotes) to `output`, copying it whole when nothing needs escaping.
    public static func appendEscaped(_ text: String, to output: inout String) {
        guard text.utf8.contains(where: needsEscape) else {
            output.append(text)
            return
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output.append("\\\"")
            case "\\": output.append("\\\\")
            case "\n": output.append("\\n")
            case "\r": output.append("\\r")
            case "\t": output.append("\\t")
            case "\u{08}": output.append("\\b")
            case "\u{0C}": output.append("\\f")
            case "\u{00}"..."\u{1F}":
                let hex = String(scalar.value, radix: 16)
                output.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
            default: output.unicodeScalars.append(scalar)
            }
        }
    }

    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }
}
