/// Reads typed fields out of a ``ConfigTree`` and collects every problem with the field's full path, so that a
/// bad file is reported in one go rather than one mistake per restart.
struct ConfigReader {
    final class Problems {
        var list: [String] = []
    }

    let tree: ConfigTree
    let path: String
    let problems: Problems

    init(tree: ConfigTree, path: String = "", problems: Problems = Problems()) {
        self.tree = tree
        self.path = path
        self.problems = problems
    }

    func field(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func report(_ problem: String) { problems.list.append(problem) }

    private var entries: [(key: String, value: ConfigTree)] {
        if case .map(let entries) = tree { return entries }
        return []
    }

    func value(_ key: String) -> ConfigTree? {
        guard let value = entries.last(where: { $0.key == key })?.value, value != .null else { return nil }
        return value
    }

    func has(_ key: String) -> Bool { value(key) != nil }

    /// A nested section; a missing section reads as empty (all defaults).
    func section(_ key: String) -> ConfigReader {
        let child = value(key) ?? .map([])
        if case .map = child {
            return ConfigReader(tree: child, path: field(key), problems: problems)
        }
        report("\(field(key)): expected a section of fields (key: value lines), found \(describe(child))")
        return ConfigReader(tree: .map([]), path: field(key), problems: problems)
    }

    /// Reports keys this section does not know, with the closest known key as a hint.
    func rejectUnknownKeys(_ known: [String]) {
        if case .map = tree {} else if tree != .null {
            report("\(path.isEmpty ? "the file" : path): expected a section of fields, found \(describe(tree))")
        }
        for (key, _) in entries where !known.contains(key) {
            let hint = known.min { editDistance($0, key) < editDistance($1, key) }
                .flatMap { editDistance($0, key) <= 3 ? " (did you mean \"\($0)\"?)" : nil } ?? ""
            report("\(field(key)): unknown field\(hint); known fields here: \(known.joined(separator: ", "))")
        }
    }

    func string(_ key: String, default fallback: String) -> String {
        guard let value = value(key) else { return fallback }
        guard case .scalar(let text) = value else {
            report("\(field(key)): expected a text value, found \(describe(value))")
            return fallback
        }
        return text
    }

    func optionalString(_ key: String) -> String? {
        has(key) ? string(key, default: "") : nil
    }

    func int(_ key: String, default fallback: Int, in range: ClosedRange<Int>) -> Int {
        guard let value = value(key) else { return fallback }
        guard case .scalar(let text) = value, let number = Int(text.replacingUnderscores) else {
            report("\(field(key)): expected a whole number, found \(describe(value))")
            return fallback
        }
        guard range.contains(number) else {
            report("\(field(key)): \(number) is out of range; "
                + "use a value from \(range.lowerBound) to \(range.upperBound)")
            return fallback
        }
        return number
    }

    func double(_ key: String, default fallback: Double, in range: ClosedRange<Double>) -> Double {
        guard let value = value(key) else { return fallback }
        guard case .scalar(let text) = value, let number = Double(text.replacingUnderscores), number.isFinite else {
            report("\(field(key)): expected a number, found \(describe(value))")
            return fallback
        }
        guard range.contains(number) else {
            report("\(field(key)): \(number) is out of range; "
                + "use a value from \(range.lowerBound) to \(range.upperBound)")
            return fallback
        }
        return number
    }

    /// A number that may be switched off with `off`/`none`/`0`.
    func optionalDouble(_ key: String, default fallback: Double?, in range: ClosedRange<Double>) -> Double? {
        guard let value = value(key) else { return fallback }
        if case .scalar(let text) = value, ["off", "none", "0"].contains(text.lowercased()) { return nil }
        return double(key, default: fallback ?? 0, in: range)
    }

    func bool(_ key: String, default fallback: Bool) -> Bool {
        guard let value = value(key) else { return fallback }
        switch value {
        case .scalar(let text) where ["true", "yes", "on"].contains(text.lowercased()): return true
        case .scalar(let text) where ["false", "no", "off"].contains(text.lowercased()): return false
        default:
            report("\(field(key)): expected true or false, found \(describe(value))")
            return fallback
        }
    }

    func choice<T>(_ key: String, default fallback: T, _ options: [String: T]) -> T {
        guard has(key) else { return fallback }
        let text = string(key, default: "")
        guard let chosen = options[text] else {
            report("\(field(key)): \"\(text)\" is not one of \(options.keys.sorted().joined(separator: ", "))")
            return fallback
        }
        return chosen
    }

    /// A map of scalar values (e.g. librdkafka properties, segment names).
    func stringMap(_ key: String) -> [String: String] {
        guard let value = value(key) else { return [:] }
        guard case .map(let entries) = value else {
            report("\(field(key)): expected a section of key: value lines, found \(describe(value))")
            return [:]
        }
        var result: [String: String] = [:]
        for (k, v) in entries {
            guard case .scalar(let text) = v else {
                report("\(field(key)).\(k): expected a text value, found \(describe(v))")
                continue
            }
            result[k] = text
        }
        return result
    }

    func stringList(_ key: String) -> [String]? {
        guard let value = value(key) else { return nil }
        switch value {
        case .list(let items):
            return items.enumerated().compactMap { index, item in
                guard case .scalar(let text) = item else {
                    report("\(field(key))[\(index)]: expected a text value, found \(describe(item))")
                    return nil
                }
                return text
            }
        case .scalar(let text):
            return text.split(separator: ",").map { $0.trimmingSpaces }
        default:
            report("\(field(key)): expected a list, found \(describe(value))")
            return nil
        }
    }

    func list(_ key: String) -> [ConfigReader] {
        guard let value = value(key) else { return [] }
        guard case .list(let items) = value else {
            report("\(field(key)): expected a list (lines starting with \"- \"), found \(describe(value))")
            return []
        }
        return items.enumerated().map { ConfigReader(tree: $1, path: "\(field(key))[\($0)]", problems: problems) }
    }

    private func describe(_ value: ConfigTree) -> String {
        switch value {
        case .scalar(let text): "\"\(text)\""
        case .list: "a list"
        case .map: "a section"
        case .null: "nothing"
        }
    }
}

private func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    var previous = Array(0...b.count)
    for i in 1...max(a.count, 1) where !a.isEmpty {
        var current = [i] + [Int](repeating: 0, count: b.count)
        for j in 1...max(b.count, 1) where !b.isEmpty {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return a.isEmpty ? b.count : previous[b.count]
}

extension StringProtocol {
    var replacingUnderscores: String { String(filter { $0 != "_" }) }
    var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
