import Foundation

/// The configured rule audiences and computed traits, compiled against the feature set: the part of the engine
/// that decides audience membership. Pure and stateless between calls — per-customer state lives in
/// ``CustomerRecord/audiences`` — so the ``SegmentationEngine`` calls it at the points where a customer may change
/// (an applied event, a tick's timers and re-evaluations, a back-fill) and gets ``AudienceChange`` values back.
public struct AudienceRules: Sendable {
    public let audiences: [Audience]
    public let traits: [ComputedTrait]
    public let conditions: [AudienceCondition]
    /// ``ComputedTrait/fingerprint`` of each trait, computed once: it is compared on every event.
    private let traitFingerprints: [UInt64]
    private let featureNames: [String]
    /// Every `<`/`<=`/`>`/`>=` comparison of a feature or windowed trait, de-duplicated: what ageing can flip.
    private let ageingComparisons: [(operand: AudienceCondition.Operand, comparison: AudienceCondition.Comparison,
                                     threshold: Double)]

    /// No audiences and no traits: evaluating changes nothing.
    public static let none = AudienceRules()

    /// How far ahead a customer's next audience change is looked for, and to what resolution.
    static let horizonMs: Int64 = 400 * 86_400_000
    static let resolutionMs: Int64 = 3_600_000

    private init() {
        audiences = []
        traits = []
        conditions = []
        traitFingerprints = []
        featureNames = []
        ageingComparisons = []
    }

    /// Compiles `audiences` and `traits` for `features`; throws every problem, each naming the audience (or trait),
    /// the position in the condition and what was expected there.
    public init(audiences: [Audience], traits: [ComputedTrait], features: FeatureSpec) throws(AudienceRulesError) {
        var problems: [String] = []
        var names = Set(features.features.map(\.name))
        for (position, trait) in traits.enumerated() {
            problems += trait.problems(at: position)
            if !trait.name.isEmpty, !names.insert(trait.name).inserted {
                problems.append("traits[\(position)] (\(trait.name)): the name is already used by a feature or "
                    + "another trait; choose another")
            }
        }
        let vocabularyTraits = traits.map { (name: $0.name, isText: $0.isText) }
        var conditions: [AudienceCondition] = []
        var ids: [String] = []
        for (position, audience) in audiences.enumerated() {
            let field = "audiences[\(position)]"
            let allowed = { (c: Character) in c.isLetter || c.isNumber || "_-.".contains(c) }
            if audience.id.isEmpty || !audience.id.allSatisfy(allowed) {
                problems.append("\(field).id: \"\(audience.id)\" must be non-empty letters, digits, _, - or . "
                    + "(it becomes part of message ids)")
            }
            if ids.contains(audience.id) {
                problems.append("\(field).id: \"\(audience.id)\" is used twice; every audience needs its own id")
            }
            if audience.name.isEmpty { problems.append("\(field) (\(audience.id)).name: is empty; give a name") }
            let vocabulary = AudienceCondition.Vocabulary(
                features: features.features.map(\.name), traits: vocabularyTraits, earlierAudiences: ids,
                allAudiences: audiences.map(\.id))
            do {
                conditions.append(try AudienceCondition.parse(audience.when, vocabulary: vocabulary))
            } catch {
                problems.append("\(field) (\(audience.id)).when: \(error) in \"\(audience.when)\"")
                conditions.append(AudienceCondition(text: audience.when, root: .constant(false)))
            }
            ids.append(audience.id)
        }
        guard problems.isEmpty else { throw AudienceRulesError(problems: problems) }
        self.audiences = audiences
        self.traits = traits
        self.conditions = conditions
        traitFingerprints = traits.map(\.fingerprint)
        featureNames = features.features.map(\.name)
        var comparisons: [(AudienceCondition.Operand, AudienceCondition.Comparison, Double)] = []
        for condition in conditions {
            for c in condition.orderingComparisons {
                if case .trait(let i) = c.operand, !traits[i].isWindowed { continue }
                if !comparisons.contains(where: { $0.0 == c.operand && $0.1 == c.comparison && $0.2 == c.threshold }) {
                    comparisons.append((c.operand, c.comparison, c.threshold))
                }
            }
        }
        ageingComparisons = comparisons.map { ($0.0, $0.1, $0.2) }
    }

    public var isEmpty: Bool { audiences.isEmpty && traits.isEmpty }

    /// Parses a condition that is not configured (a preview): it may read features, traits, `segment` and every
    /// configured audience.
    public func condition(_ text: String) throws(AudienceConditionError) -> AudienceCondition {
        let ids = audiences.map(\.id)
        return try AudienceCondition.parse(text, vocabulary: .init(
            features: featureNames, traits: traits.map { ($0.name, $0.isText) }, earlierAudiences: ids,
            allAudiences: ids))
    }

    // MARK: traits

    /// Folds an applied event into the customer's traits. `time` is the time the event was applied at.
    public func observe(_ event: Event, at time: Int64, into state: inout CustomerAudiences) {
        for (index, trait) in traits.enumerated() where trait.matches(event) {
            let fingerprint = traitFingerprints[index]
            var stored = state.traits[trait.name]
            if stored?.fingerprint != fingerprint {
                stored = .init(fingerprint: fingerprint, state: TraitState())
            }
            stored!.state.observe(event, at: time, trait: trait)
            state.traits[trait.name] = stored
        }
    }

    /// Every trait's value for `record` as of `now`.
    public func traitValues(of record: CustomerRecord, at now: Int64) -> [(name: String, value: TraitValue?)] {
        traits.indices.map { (traits[$0].name, traitValue($0, record.audiences, at: now)) }
    }

    private func traitValue(_ index: Int, _ state: CustomerAudiences, at now: Int64) -> TraitValue? {
        let trait = traits[index]
        guard let stored = state.traits[trait.name], stored.fingerprint == traitFingerprints[index] else {
            return TraitState().value(at: now, trait: trait)
        }
        return stored.state.value(at: now, trait: trait)
    }

    // MARK: membership

    /// Re-evaluates every audience for `record` as of the watermark and appends a change for each one the customer
    /// entered or left, updating the stored membership. Audiences are evaluated in order, so `in_audience` sees
    /// the new answer of an earlier audience.
    public func evaluate(
        _ record: inout CustomerRecord, segmentation: Segmentation, cause: AudienceChange.Cause, at time: Int64,
        into changes: inout [AudienceChange]
    ) {
        guard !audiences.isEmpty, record.eventCount > 0 else { return }
        let now = segmentation.watermark
        var context = Context(record: record, rules: self, segmentation: segmentation, at: now)
        var features: [(name: String, value: Double)]?
        var traitValues: [(name: String, value: TraitValue?)]?
        for (index, audience) in audiences.enumerated() {
            let member = conditions[index].evaluate(context)
            context.members.append(member)
            let previous = record.audiences.memberships[audience.id]
            guard member != (previous?.isMember ?? false) else { continue }
            let seq = (previous?.seq ?? 0) + 1
            record.audiences.memberships[audience.id] = .init(isMember: member, seq: seq)
            if features == nil {
                features = zip(featureNames, context.features).map { ($0, $1) }
                traitValues = traits.indices.map { (traits[$0].name, context.traits[$0]) }
            }
            changes.append(AudienceChange(
                customerID: record.customerID, audienceID: audience.id, audienceName: audience.name, entered: member,
                seq: seq, cause: cause, at: time, features: features!, traits: traitValues!))
        }
    }

    /// An Exited (with no features or traits) for every configured audience `record` is in, for a customer who
    /// leaves (erased, or merged into another id).
    public func exitAll(
        _ record: inout CustomerRecord, cause: AudienceChange.Cause, at time: Int64,
        into changes: inout [AudienceChange]
    ) {
        for audience in audiences {
            guard let membership = record.audiences.memberships[audience.id], membership.isMember else { continue }
            let seq = membership.seq + 1
            record.audiences.memberships[audience.id] = .init(isMember: false, seq: seq)
            changes.append(AudienceChange(
                customerID: record.customerID, audienceID: audience.id, audienceName: audience.name, entered: false,
                seq: seq, cause: cause, at: time, features: []))
        }
    }

    /// Whether `condition` holds for `record` now (a preview; nothing is changed).
    public func matches(_ condition: AudienceCondition, _ record: CustomerRecord, segmentation: Segmentation) -> Bool {
        guard record.eventCount > 0 else { return false }
        var context = Context(record: record, rules: self, segmentation: segmentation, at: segmentation.watermark)
        for index in audiences.indices {
            context.members.append(record.audiences.memberships[audiences[index].id]?.isMember ?? false)
        }
        return condition.evaluate(context)
    }

    /// The earliest event time after the watermark at which ageing alone (no event) may change an audience's
    /// answer for `record`, to within an hour; nil when none can within about 400 days. Each comparison of an
    /// ageing value (decayed amounts, recency, windows) with a threshold flips at most once, because those values
    /// only move one way as time passes, so its crossing is found by bisection.
    public func nextChange(of record: CustomerRecord, segmentation: Segmentation) -> Int64? {
        guard !ageingComparisons.isEmpty, record.eventCount > 0 else { return nil }
        let layout = segmentation.layout
        let now = max(segmentation.watermark, record.state.lastEventAt)
        func holds(_ index: Int, at time: Int64) -> Bool {
            let c = ageingComparisons[index]
            let value: Double
            switch c.operand {
            case .feature(let i): value = record.state.feature(i, at: time, layout: layout)
            case .trait(let i):
                guard case .number(let x)? = traitValue(i, record.audiences, at: time) else { return false }
                value = x
            case .segment: return false
            }
            return c.comparison.holds(value < c.threshold ? -1 : (value > c.threshold ? 1 : 0))
        }
        var earliest: Int64?
        for index in ageingComparisons.indices {
            let start = holds(index, at: now)
            var low = now, high = now + Self.horizonMs
            guard holds(index, at: high) != start else { continue }
            if let earliest, holds(index, at: earliest) == start { continue }
            if let earliest { high = earliest }
            while high - low > Self.resolutionMs {
                let middle = low + (high - low) / 2
                if holds(index, at: middle) == start { low = middle } else { high = middle }
            }
            earliest = high
        }
        return earliest
    }

    /// What conditions read for one customer at one time.
    struct Context: AudienceConditionContext {
        var features: [Double] = []
        var traits: [TraitValue?]
        var segment: (id: Int, name: String)?
        var members: [Bool] = []

        init(record: CustomerRecord, rules: AudienceRules, segmentation: Segmentation, at now: Int64) {
            record.state.features(at: now, layout: segmentation.layout, into: &features)
            traits = rules.traits.indices.map { rules.traitValue($0, record.audiences, at: now) }
            segment = record.segmentID.map { ($0, segmentation.name(of: $0)) }
        }

        func feature(_ index: Int) -> Double { features[index] }
        func trait(_ index: Int) -> TraitValue? { traits[index] }
        func inAudience(_ index: Int) -> Bool { index < members.count && members[index] }
    }
}

/// The `audiences` or `traits` configuration cannot be used; every problem names its field.
public struct AudienceRulesError: Error, Sendable, CustomStringConvertible {
    public var problems: [String]

    public var description: String { problems.joined(separator: "; ") }
}

extension CustomerState {
    /// Feature `index` in user units as of `watermark`, computed alone (what ``features(at:layout:into:)`` writes
    /// at that index): the audience timers probe one feature at many times.
    func feature(_ index: Int, at watermark: Int64, layout: FeatureLayout) -> Double {
        // A watermark that never moved (.min: a store restored before any event) ages nobody, and cannot overflow.
        let age = lastEventAt == .min || watermark == .min ? 0 : Double(max(0, watermark - lastEventAt))
        return value(of: layout.steps[index], at: watermark, age: age) {
            feature($0, at: watermark, layout: layout)
        }
    }
}
