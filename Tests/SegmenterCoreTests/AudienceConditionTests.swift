import Testing

@testable import SegmenterCore

@Suite("audience conditions: parsing, errors and evaluation")
struct AudienceConditionTests {
    struct Values: AudienceConditionContext {
        var features: [String: Double] = [:]
        var traits: [String: TraitValue] = [:]
        var segment: (id: Int, name: String)?
        var members: [Bool] = []
        let vocabulary: AudienceCondition.Vocabulary

        func feature(_ index: Int) -> Double { features[vocabulary.features[index]] ?? 0 }
        func trait(_ index: Int) -> TraitValue? { traits[vocabulary.traits[index].name] }
        func inAudience(_ index: Int) -> Bool { members[index] }
    }

    let vocabulary = AudienceCondition.Vocabulary(
        features: FeatureSpec.ecommerce().features.map(\.name),
        traits: [("favourite_category", true), ("max_order_90d", false)],
        earlierAudiences: ["big_spenders"], allAudiences: ["big_spenders", "me", "later"])

    func holds(_ text: String, _ values: (inout Values) -> Void) throws -> Bool {
        let condition = try AudienceCondition.parse(text, vocabulary: vocabulary)
        var context = Values(vocabulary: vocabulary)
        values(&context)
        return condition.evaluate(context)
    }

    func error(_ text: String) -> AudienceConditionError? {
        do {
            _ = try AudienceCondition.parse(text, vocabulary: vocabulary)
            return nil
        } catch {
            return error
        }
    }

    @Test("the issue's examples read features, segment by name and by id, and and/or/not with parentheses")
    func examples() throws {
        let big = "orders_30d >= 2 and revenue_30d > 150"
        #expect(try holds(big) { $0.features = ["orders_30d": 2, "revenue_30d": 151] })
        #expect(try !holds(big) { $0.features = ["orders_30d": 2, "revenue_30d": 150] })
        let vip = "segment == 'High-value buyers' and days_since_last_order > 45"
        #expect(try holds(vip) {
            $0.segment = (3, "High-value buyers")
            $0.features = ["days_since_last_order": 46]
        })
        #expect(try !holds(vip) { $0.segment = nil; $0.features = ["days_since_last_order": 46] })
        #expect(try holds("segment == 3") { $0.segment = (3, "x") })
        #expect(try holds("not (carts_30d > 0 and orders_30d > 0) or segment != 'Dormant'") {
            $0.features = ["carts_30d": 1, "orders_30d": 1]
            $0.segment = (1, "Browsers")
        })
        #expect(try !holds("carts_30d > 0 or orders_30d > 0 and revenue_30d > 10") { $0.features = ["orders_30d": 1] },
                "and binds tighter than or")
    }

    @Test("in and not in lists, text traits, numeric traits and references to earlier audiences")
    func listsTraitsAndAudiences() throws {
        #expect(try holds("favourite_category in ['shoes', \"bags\"]") {
            $0.traits["favourite_category"] = .text("bags")
        })
        #expect(try holds("favourite_category not in ['shoes']") { $0.traits["favourite_category"] = .text("bags") })
        #expect(try !holds("favourite_category not in ['shoes']") { _ in }, "a missing value makes comparisons false")
        #expect(try !holds("favourite_category != 'shoes'") { _ in })
        #expect(try holds("max_order_90d >= 1_000") { $0.traits["max_order_90d"] = .number(1_000) })
        #expect(try holds("in_audience('big_spenders') and segment in [1, 2]") {
            $0.members = [true]
            $0.segment = (2, "x")
        })
        #expect(try holds("NOT in_audience('big_spenders') AND TRUE") { $0.members = [false] })
    }

    @Test("a bad condition names the position and what was expected there")
    func errors() {
        #expect(error("orders_30d >= ") == .init(position: 15, message:
            "expected a number or a text in quotes, found the end of the condition"))
        #expect(error("orders_30 > 2")?.position == 1)
        #expect(error("orders_30 > 2")?.message.contains("did you mean `orders_30d`?") == true)
        #expect(error("orders_30d = 2") == .init(position: 12, message: "`=` is not a comparison; use =="))
        #expect(error("(orders_30d > 2")?.message == "expected `)`, found the end of the condition")
        #expect(error("orders_30d > 'many'")?.message.contains("is a number (a feature)") == true)
        #expect(error("favourite_category == 3")?.message.contains("text trait") == true)
        #expect(error("favourite_category > 'a'")?.position == 20)
        #expect(error("in_audience('me')")?.message.contains("defined after it") == true)
        #expect(error("in_audience('nobody')")?.message.contains("no audience has the id 'nobody'") == true)
        #expect(error("segment == 'Dormant")?.message.contains("no closing '") == true)
        #expect(error("orders_30d > 2 revenue_30d > 1")?.position == 16)
        #expect(error("orders_30d > 2 && carts_30d > 1")?.message.contains("use and, or, not") == true)
        #expect(error("   ")?.message.contains("empty") == true)
    }

    @Test("only ordering comparisons of features and traits with numbers can be flipped by time")
    func orderingComparisons() throws {
        let condition = try AudienceCondition.parse(
            "days_since_last_order > 45 and segment == 2 and (orders_30d == 1 or max_order_90d <= 5)",
            vocabulary: vocabulary)
        let found = condition.orderingComparisons.map { "\($0.operand) \($0.comparison.rawValue) \($0.threshold)" }
        #expect(found == ["feature(13) > 45.0", "trait(1) <= 5.0"])
    }
}
