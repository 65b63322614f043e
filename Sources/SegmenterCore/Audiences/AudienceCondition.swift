/// A rule audience's `when` condition, parsed and resolved against the names it may read: features in user units,
/// computed traits, `segment` (name or id) and audiences defined before it (`in_audience('id')`). Comparisons,
/// `in [...]`, `not in [...]`, `and`, `or`, `not` and parentheses; `and` binds tighter than `or`.
///
/// A value that does not exist yet (a trait of a customer with no matching event, the segment before the model
/// exists) makes every comparison on it false, `!=` and `not in` included.
public struct AudienceCondition: Sendable, Hashable {
    public enum Comparison: String, Sendable, Hashable {
        case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="

        func holds(_ order: Int) -> Bool {
            switch self {
            case .equal: order == 0
            case .notEqual: order != 0
            case .less: order < 0
            case .lessOrEqual: order <= 0
            case .greater: order > 0
            case .greaterOrEqual: order >= 0
            }
        }

        var isOrdering: Bool { self != .equal && self != .notEqual }
    }

    /// What a comparison reads.
    public enum Operand: Sendable, Hashable {
        /// A feature, by its index in the ``FeatureSpec``.
        case feature(Int)
        /// A computed trait, by its index in the configured traits.
        case trait(Int)
        /// The customer's segment: compared with a number it is the id, with text the name.
        case segment
    }

    public enum Literal: Sendable, Hashable, CustomStringConvertible {
        case number(Double)
        case text(String)

        public var description: String {
            switch self {
            case .number(let x): x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : String(x)
            case .text(let s): "'\(s)'"
            }
        }
    }

    public indirect enum Node: Sendable, Hashable {
        case constant(Bool)
        case compare(Operand, Comparison, Literal)
        case member(Operand, [Literal], negated: Bool)
        /// Membership in an earlier audience, by its index in the audience list.
        case inAudience(Int)
        case not(Node)
        case and(Node, Node)
        case or(Node, Node)
    }

    /// The condition as the user wrote it.
    public let text: String
    public let root: Node

    public init(text: String, root: Node) {
        self.text = text
        self.root = root
    }

    /// The names a condition may read, with their types.
    public struct Vocabulary: Sendable {
        public var features: [String]
        /// Trait names, and whether each holds text (most frequent / first / last of a text property).
        public var traits: [(name: String, isText: Bool)]
        /// Ids of the audiences a condition may refer to (those defined before it).
        public var earlierAudiences: [String]
        /// Every audience id, so that a reference to a later one gets a precise error.
        public var allAudiences: [String]

        public init(
            features: [String], traits: [(name: String, isText: Bool)] = [], earlierAudiences: [String] = [],
            allAudiences: [String] = []
        ) {
            self.features = features
            self.traits = traits
            self.earlierAudiences = earlierAudiences
            self.allAudiences = allAudiences
        }
    }

    /// Parses `text`, resolving every name against `vocabulary`.
    public static func parse(_ text: String, vocabulary: Vocabulary) throws(AudienceConditionError) -> Self {
        var parser = ConditionParser(text: text, vocabulary: vocabulary)
        return AudienceCondition(text: text, root: try parser.parseAll())
    }

    /// Every comparison of a feature or trait with a number by `<`, `<=`, `>` or `>=`: the only parts of a
    /// condition whose value can change as time passes without an event (decayed amounts, recency, windows).
    public var orderingComparisons: [(operand: Operand, comparison: Comparison, threshold: Double)] {
        var found: [(Operand, Comparison, Double)] = []
        func walk(_ node: Node) {
            switch node {
            case .compare(let operand, let comparison, .number(let x)) where operand != .segment:
                if comparison.isOrdering { found.append((operand, comparison, x)) }
            case .not(let inner): walk(inner)
            case .and(let a, let b), .or(let a, let b): walk(a); walk(b)
            case .constant, .compare, .member, .inAudience: break
            }
        }
        walk(root)
        return found
    }

    /// Indexes of the audiences this condition refers to.
    public var referencedAudiences: [Int] {
        var found: [Int] = []
        func walk(_ node: Node) {
            switch node {
            case .inAudience(let index): found.append(index)
            case .not(let inner): walk(inner)
            case .and(let a, let b), .or(let a, let b): walk(a); walk(b)
            case .constant, .compare, .member: break
            }
        }
        walk(root)
        return found
    }
}

/// The values a condition is evaluated against.
public protocol AudienceConditionContext {
    func feature(_ index: Int) -> Double
    func trait(_ index: Int) -> TraitValue?
    var segment: (id: Int, name: String)? { get }
    func inAudience(_ index: Int) -> Bool
}

extension AudienceCondition {
    public func evaluate(_ context: some AudienceConditionContext) -> Bool {
        Self.evaluate(root, context)
    }

    static func evaluate(_ node: Node, _ context: some AudienceConditionContext) -> Bool {
        switch node {
        case .constant(let value): return value
        case .compare(let operand, let comparison, let literal):
            guard let order = compare(operand, literal, context) else { return false }
            return comparison.holds(order)
        case .member(let operand, let literals, let negated):
            var known = false
            for literal in literals {
                guard let order = compare(operand, literal, context) else { continue }
                known = true
                if order == 0 { return !negated }
            }
            return known && negated
        case .inAudience(let index): return context.inAudience(index)
        case .not(let inner): return !evaluate(inner, context)
        case .and(let a, let b): return evaluate(a, context) && evaluate(b, context)
        case .or(let a, let b): return evaluate(a, context) || evaluate(b, context)
        }
    }

    /// -1, 0 or 1 comparing the operand's value with the literal; nil when the value does not exist (or is NaN).
    static func compare(_ operand: Operand, _ literal: Literal, _ context: some AudienceConditionContext) -> Int? {
        switch (operand, literal) {
        case (.feature(let i), .number(let x)): return order(context.feature(i), x)
        case (.trait(let i), .number(let x)):
            guard case .number(let value) = context.trait(i) else { return nil }
            return order(value, x)
        case (.trait(let i), .text(let s)):
            guard case .text(let value) = context.trait(i) else { return nil }
            return value == s ? 0 : (value.precedesInByteOrder(s) ? -1 : 1)
        case (.segment, .number(let x)):
            guard let segment = context.segment else { return nil }
            return order(Double(segment.id), x)
        case (.segment, .text(let s)):
            guard let segment = context.segment else { return nil }
            return segment.name == s ? 0 : (segment.name.precedesInByteOrder(s) ? -1 : 1)
        case (.feature, .text):
            return nil
        }
    }

    private static func order(_ a: Double, _ b: Double) -> Int? {
        guard !a.isNaN else { return nil }
        return a < b ? -1 : (a > b ? 1 : 0)
    }
}

/// A condition that cannot be used: where (1-based character position) and what was expected there.
public struct AudienceConditionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// 1-based position of the character where the problem starts.
    public var position: Int
    /// What was wrong and what was expected, as a sentence fragment.
    public var message: String

    public init(position: Int, message: String) {
        self.position = position
        self.message = message
    }

    public var description: String { "at position \(position): \(message)" }
}

/// Recursive-descent parser over the characters of a condition.
struct ConditionParser {
    enum Token: Equatable {
        case name(String)
        case number(Double)
        case text(String)
        case symbol(String)
        case end
    }

    let characters: [Character]
    let vocabulary: AudienceCondition.Vocabulary
    var index = 0
    /// The current token and the 1-based position where it starts.
    var token = Token.end
    var tokenPosition = 1

    init(text: String, vocabulary: AudienceCondition.Vocabulary) {
        characters = Array(text)
        self.vocabulary = vocabulary
    }

    mutating func parseAll() throws(AudienceConditionError) -> AudienceCondition.Node {
        try advance()
        if token == .end {
            throw AudienceConditionError(position: 1, message: "the condition is empty; expected e.g. orders_30d >= 2")
        }
        let node = try parseOr()
        guard token == .end else {
            throw fail("expected `and`, `or` or the end of the condition, found \(describe(token))")
        }
        return node
    }

    private func fail(_ message: String) -> AudienceConditionError {
        AudienceConditionError(position: tokenPosition, message: message)
    }

    private func describe(_ token: Token) -> String {
        switch token {
        case .name(let n): "`\(n)`"
        case .number(let x): "the number \(AudienceCondition.Literal.number(x))"
        case .text(let s): "the text '\(s)'"
        case .symbol(let s): "`\(s)`"
        case .end: "the end of the condition"
        }
    }

    private mutating func parseOr() throws(AudienceConditionError) -> AudienceCondition.Node {
        var node = try parseAnd()
        while token == .name("or") {
            try advance()
            node = .or(node, try parseAnd())
        }
        return node
    }

    private mutating func parseAnd() throws(AudienceConditionError) -> AudienceCondition.Node {
        var node = try parseUnary()
        while token == .name("and") {
            try advance()
            node = .and(node, try parseUnary())
        }
        return node
    }

    private mutating func parseUnary() throws(AudienceConditionError) -> AudienceCondition.Node {
        if token == .name("not") {
            try advance()
            return .not(try parseUnary())
        }
        return try parsePrimary()
    }

    private mutating func parsePrimary() throws(AudienceConditionError) -> AudienceCondition.Node {
        switch token {
        case .symbol("("):
            try advance()
            let inner = try parseOr()
            guard token == .symbol(")") else { throw fail("expected `)`, found \(describe(token))") }
            try advance()
            return inner
        case .name("true"):
            try advance()
            return .constant(true)
        case .name("false"):
            try advance()
            return .constant(false)
        case .name("in_audience"):
            return try parseInAudience()
        case .name(let name):
            let operand = try resolve(name)
            try advance()
            return try parseComparison(operand, name: name)
        default:
            throw fail("expected a feature, a trait, `segment`, `in_audience(...)`, `not` or `(`, "
                + "found \(describe(token))")
        }
    }

    private mutating func parseInAudience() throws(AudienceConditionError) -> AudienceCondition.Node {
        try advance()
        guard token == .symbol("(") else { throw fail("expected `(` after in_audience, found \(describe(token))") }
        try advance()
        guard case .text(let id) = token else {
            throw fail("expected an audience id in quotes, e.g. in_audience('big_spenders'), found \(describe(token))")
        }
        guard let index = vocabulary.earlierAudiences.firstIndex(of: id) else {
            if vocabulary.allAudiences.contains(id) {
                throw fail("in_audience('\(id)') refers to this audience or one defined after it; "
                    + "list '\(id)' earlier in audiences (references must not form a cycle)")
            }
            let known = vocabulary.earlierAudiences.isEmpty
                ? "no audience is defined before this one"
                : "audiences defined before this one: " + vocabulary.earlierAudiences.joined(separator: ", ")
            throw fail("no audience has the id '\(id)'; \(known)")
        }
        try advance()
        guard token == .symbol(")") else { throw fail("expected `)`, found \(describe(token))") }
        try advance()
        return .inAudience(index)
    }

    private func resolve(_ name: String) throws(AudienceConditionError) -> AudienceCondition.Operand {
        if name == "segment" { return .segment }
        if let i = vocabulary.features.firstIndex(of: name) { return .feature(i) }
        if let i = vocabulary.traits.firstIndex(where: { $0.name == name }) { return .trait(i) }
        var known = vocabulary.features
        known += vocabulary.traits.map(\.name)
        let hint = known.min { editDistance($0, name) < editDistance($1, name) }
            .flatMap { editDistance($0, name) <= 3 ? " (did you mean `\($0)`?)" : nil } ?? ""
        throw fail("`\(name)` is not a feature, a computed trait or `segment`\(hint); "
            + "known names: \((known + ["segment"]).joined(separator: ", "))")
    }

    private mutating func parseComparison(
        _ operand: AudienceCondition.Operand, name: String
    ) throws(AudienceConditionError) -> AudienceCondition.Node {
        var negated = false
        if token == .name("not") {
            try advance()
            guard token == .name("in") else {
                throw fail("expected `in` after `\(name) not`, found \(describe(token))")
            }
            negated = true
        }
        if token == .name("in") {
            try advance()
            guard token == .symbol("[") else { throw fail("expected `[` after `in`, found \(describe(token))") }
            try advance()
            var literals: [AudienceCondition.Literal] = []
            while true {
                literals.append(try parseLiteral(for: operand, name: name))
                if token == .symbol("]") { break }
                guard token == .symbol(",") else { throw fail("expected `,` or `]`, found \(describe(token))") }
                try advance()
            }
            try advance()
            return .member(operand, literals, negated: negated)
        }
        guard case .symbol(let symbol) = token, let comparison = AudienceCondition.Comparison(rawValue: symbol) else {
            throw fail("expected a comparison (==, !=, <, <=, >, >=) or `in [...]` after `\(name)`, "
                + "found \(describe(token))")
        }
        let operatorPosition = tokenPosition
        try advance()
        let literal = try parseLiteral(for: operand, name: name)
        if case .text = literal, comparison.isOrdering {
            throw AudienceConditionError(
                position: operatorPosition, message: "`\(symbol)` compares numbers; compare text with == or !=")
        }
        return .compare(operand, comparison, literal)
    }

    private mutating func parseLiteral(
        for operand: AudienceCondition.Operand, name: String
    ) throws(AudienceConditionError) -> AudienceCondition.Literal {
        let literal: AudienceCondition.Literal
        switch token {
        case .number(let x): literal = .number(x)
        case .text(let s): literal = .text(s)
        default: throw fail("expected a number or a text in quotes, found \(describe(token))")
        }
        switch (operand, literal) {
        case (.feature, .text):
            throw fail("`\(name)` is a number (a feature); compare it with a number, not a text")
        case (.trait(let i), .text) where !vocabulary.traits[i].isText:
            throw fail("`\(name)` is a numeric trait; compare it with a number, not a text")
        case (.trait(let i), .number) where vocabulary.traits[i].isText:
            throw fail("`\(name)` is a text trait; compare it with a text in quotes, e.g. 'shoes'")
        default: break
        }
        try advance()
        return literal
    }

    // MARK: tokens

    private mutating func advance() throws(AudienceConditionError) {
        while index < characters.count, characters[index].isWhitespace { index += 1 }
        tokenPosition = index + 1
        guard index < characters.count else {
            token = .end
            return
        }
        let c = characters[index]
        if c.isLetter || c == "_" {
            let start = index
            while index < characters.count, characters[index].isLetter || characters[index].isNumber
                || characters[index] == "_"
            {
                index += 1
            }
            let word = String(characters[start..<index])
            let keywords = ["and", "or", "not", "in", "true", "false"]
            token = .name(keywords.contains(word.lowercased()) ? word.lowercased() : word)
            return
        }
        if c.isNumber || ((c == "-" || c == ".") && index + 1 < characters.count && characters[index + 1].isNumber) {
            let start = index
            index += 1
            while index < characters.count,
                  characters[index].isNumber || characters[index] == "." || characters[index] == "_"
                    || characters[index] == "e" || characters[index] == "E"
                    || ((characters[index] == "-" || characters[index] == "+")
                        && (characters[index - 1] == "e" || characters[index - 1] == "E"))
            {
                index += 1
            }
            let text = String(characters[start..<index]).replacingOccurrences(of: "_", with: "")
            guard let value = Double(text), value.isFinite else {
                throw AudienceConditionError(position: start + 1, message: "`\(text)` is not a number")
            }
            token = .number(value)
            return
        }
        if c == "'" || c == "\"" {
            let start = index
            index += 1
            var text = ""
            while index < characters.count, characters[index] != c {
                if characters[index] == "\\", index + 1 < characters.count { index += 1 }
                text.append(characters[index])
                index += 1
            }
            guard index < characters.count else {
                throw AudienceConditionError(
                    position: start + 1, message: "the text starting here has no closing \(c)")
            }
            index += 1
            token = .text(text)
            return
        }
        for symbol in ["==", "!=", "<=", ">=", "<", ">", "(", ")", "[", "]", ","] {
            let chars = Array(symbol)
            if index + chars.count <= characters.count, Array(characters[index..<(index + chars.count)]) == chars {
                index += chars.count
                token = .symbol(symbol)
                return
            }
        }
        if c == "=" {
            throw AudienceConditionError(position: index + 1, message: "`=` is not a comparison; use ==")
        }
        if c == "&" || c == "|" || c == "!" {
            throw AudienceConditionError(
                position: index + 1, message: "`\(c)` is not an operator here; use and, or, not (or != for unequal)")
        }
        throw AudienceConditionError(position: index + 1, message: "unexpected character `\(c)`")
    }
}

func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    guard !a.isEmpty else { return b.count }
    guard !b.isEmpty else { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + [Int](repeating: 0, count: b.count)
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}
