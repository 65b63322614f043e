import Yams

/// The configuration file as a plain tree of maps, lists and scalar strings, before it is read into typed
/// settings. Keeping this step separate lets environment variables and flags override any field by path, and
/// lets every error name the exact field (`model.k`, `features.custom[2].events`).
indirect enum ConfigTree: Sendable, Equatable {
    case map([(key: String, value: ConfigTree)])
    case list([ConfigTree])
    case scalar(String)
    case null

    static func == (a: ConfigTree, b: ConfigTree) -> Bool {
        switch (a, b) {
        case (.map(let x), .map(let y)):
            x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case (.list(let x), .list(let y)): x == y
        case (.scalar(let x), .scalar(let y)): x == y
        case (.null, .null): true
        default: false
        }
    }

    /// Parses YAML text; `source` names the file in errors.
    static func parse(yaml: String, source: String) throws -> ConfigTree {
        let node: Node?
        do {
            node = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw ConfigurationError(source: source, problems: ["not valid YAML: \(error)"])
        }
        guard let node else { return .map([]) }
        return try ConfigTree(node, path: "", source: source)
    }

    private init(_ node: Node, path: String, source: String) throws {
        switch node {
        case .scalar(let scalar):
            let isNull = scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
            self = isNull ? .null : .scalar(scalar.string)
        case .sequence(let sequence):
            self = .list(try sequence.enumerated().map {
                try ConfigTree($1, path: "\(path)[\($0)]", source: source)
            })
        case .mapping(let mapping):
            var entries: [(key: String, value: ConfigTree)] = []
            for (keyNode, valueNode) in mapping {
                guard let key = keyNode.scalar?.string else {
                    throw ConfigurationError(source: source, problems: ["\(path): keys must be plain strings"])
                }
                let childPath = path.isEmpty ? key : "\(path).\(key)"
                entries.append((key, try ConfigTree(valueNode, path: childPath, source: source)))
            }
            self = .map(entries)
        case .alias:
            throw ConfigurationError(source: source, problems: ["\(path): YAML aliases are not supported"])
        }
    }

    /// Sets the value at a dotted path (`kafka.bootstrap_servers`), creating maps on the way.
    mutating func set(_ path: [String], to value: ConfigTree) {
        guard let first = path.first else {
            self = value
            return
        }
        var entries: [(key: String, value: ConfigTree)]
        if case .map(let existing) = self { entries = existing } else { entries = [] }
        if let i = entries.firstIndex(where: { $0.key == first }) {
            entries[i].value.set(Array(path.dropFirst()), to: value)
        } else {
            var child = ConfigTree.null
            child.set(Array(path.dropFirst()), to: value)
            entries.append((first, child))
        }
        self = .map(entries)
    }
}
