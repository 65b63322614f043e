import Foundation
import Testing

@testable import SegmenterCore

@Suite("rule audiences and computed traits in the engine")
struct AudienceRulesTests {
    static let day: Int64 = 86_400_000
    static let t0: Int64 = 1_772_000_000_000

    static let traits = [
        ComputedTrait(name: "favourite_category", kind: .mostFrequent, property: .text(.category),
                      types: [.productView, .purchase]),
        ComputedTrait(name: "last_channel", kind: .last, property: .text(.channel)),
        ComputedTrait(name: "first_value", kind: .first, property: .number(.value), types: [.purchase]),
        ComputedTrait(name: "max_order_90d", kind: .max, property: .number(.value), types: [.purchase],
                      windowDays: 90),
        ComputedTrait(name: "shoe_orders_30d", kind: .count, types: [.purchase], filter: [.category: "shoes"],
                      windowDays: 30),
    ]

    static let audiences = [
        Audience(id: "big_spenders", name: "Big spenders", when: "orders_30d >= 2 and revenue_30d > 150"),
        Audience(id: "lapsing", name: "Going quiet", when: "in_audience('big_spenders') or days_since_last_order > 45"),
        Audience(id: "shoe_fans", name: "Shoe fans", when: "shoe_orders_30d >= 1"),
    ]

    static func rules(_ audiences: [Audience] = audiences) throws -> AudienceRules {
        try AudienceRules(audiences: audiences, traits: traits, features: .ecommerce())
    }

    static func configuration() -> SegmentationConfiguration {
        var c = SegmentationConfiguration()
        c.kmeans.initSample = 200
        c.tickEvents = 100
        // These streams jump weeks ahead on purpose.
        c.eventTime.maxLeadMilliseconds = nil
        return c
    }

    static func purchase(_ id: String, at t: Int64, value: Double, category: String = "bags") -> Event {
        Event(eventID: "\(id)-\(t)", customerID: id, type: .purchase, timestamp: t, value: value, category: category,
              channel: "email")
    }

    @Test("traits: most frequent, last, first, and a windowed max and filtered count that expire")
    func traits() throws {
        let rules = try Self.rules()
        var state = CustomerAudiences()
        let events = [
            Event(customerID: "c", type: .productView, timestamp: Self.t0, category: "shoes", channel: "ads"),
            Self.purchase("c", at: Self.t0 + Self.day, value: 80, category: "shoes"),
            Self.purchase("c", at: Self.t0 + 2 * Self.day, value: 20),
            Event(customerID: "c", type: .productView, timestamp: Self.t0 + 3 * Self.day, category: "bags"),
            Event(customerID: "c", type: .productView, timestamp: Self.t0 + 4 * Self.day, category: "shoes"),
        ]
        for event in events { rules.observe(event, at: event.timestamp, into: &state) }
        var record = CustomerRecord(
            customerID: "c", partition: 0, state: CustomerState(layout: FeatureLayout(spec: .ecommerce())))
        record.audiences = state
        func values(_ t: Int64) -> [String: String] {
            Dictionary(uniqueKeysWithValues: rules.traitValues(of: record, at: t).map {
                ($0.name, $0.value?.description ?? "none")
            })
        }
        #expect(values(Self.t0 + 5 * Self.day) == [
            "favourite_category": "shoes", "last_channel": "email", "first_value": "80", "max_order_90d": "80",
            "shoe_orders_30d": "1",
        ])
        let later = values(Self.t0 + 40 * Self.day)
        #expect(later["shoe_orders_30d"] == "0" && later["max_order_90d"] == "80")
        #expect(values(Self.t0 + 100 * Self.day)["max_order_90d"] == "none", "the window moved past both orders")
        let restored = try CustomerAudiences(encoded: state.encoded())
        #expect(restored == state)
    }

    @Test("entering and leaving alternate per customer and audience, starting with Entered; seq runs 1, 2, 3")
    func membershipSequence() throws {
        var engine = SegmentationEngine(segmentation: Segmentation(configuration: Self.configuration()))
        engine.audiences = try Self.rules()
        var customers = InMemoryCustomers()
        var changes: [AudienceChange] = []
        let events = [
            Self.purchase("c", at: Self.t0, value: 100),
            Self.purchase("c", at: Self.t0 + 1_000, value: 100),
            Self.purchase("c", at: Self.t0 + 2_000, value: 100, category: "shoes"),
            // Two months later the decayed amounts fall under the thresholds; one purchase re-evaluates them.
            Self.purchase("c", at: Self.t0 + 60 * Self.day, value: 1),
        ]
        for event in events {
            try engine.apply(event, partition: 0, in: &customers)
            engine.takeAudienceChanges { changes.append($0) }
        }
        let big = changes.filter { $0.audienceID == "big_spenders" }
        #expect(big.map(\.seq) == [1, 2] && big.map(\.entered) == [true, false])
        #expect(big.map(\.cause) == [.event, .event])
        #expect(big[0].messageID == "c:big_spenders:1")
        let lapsing = changes.filter { $0.audienceID == "lapsing" }
        #expect(lapsing.map(\.entered) == [true, false], "in_audience follows big_spenders in and out")
        let fans = changes.filter { $0.audienceID == "shoe_fans" }
        #expect(fans.map(\.entered) == [true, false])
        let record = try #require(customers.record("c"))
        #expect(record.audiences.memberships["big_spenders"] == .init(isMember: false, seq: 2))
        #expect(record.audiences.audienceIDs.isEmpty)
    }

    @Test("the next audience timer is where a recency threshold is crossed, to within an hour")
    func nextChangeFindsTheCrossing() throws {
        let rules = try Self.rules([Audience(id: "quiet", name: "Quiet", when: "days_since_last_order > 45")])
        var segmentation = Segmentation(configuration: Self.configuration())
        var record = segmentation.newRecord(customerID: "c", partition: 0)
        _ = segmentation.apply(Self.purchase("c", at: Self.t0, value: 10), to: &record)
        let due = try #require(rules.nextChange(of: record, segmentation: segmentation))
        #expect(due >= Self.t0 + 45 * Self.day && due <= Self.t0 + 45 * Self.day + 3_600_000)
        let never = try Self.rules([Audience(id: "x", name: "X", when: "segment == 1 or mobile_share > 0.5")])
        #expect(never.nextChange(of: record, segmentation: segmentation) == nil, "nothing there ages")
    }

    @Test("time passing moves customers into an audience at a tick, with cause timer and no event of theirs")
    func timersFire() throws {
        var c = Self.configuration()
        c.kmeans.initSample = 20
        c.tickEvents = 10
        var engine = SegmentationEngine(segmentation: Segmentation(configuration: c))
        engine.audiences = try Self.rules([Audience(id: "quiet", name: "Quiet", when: "days_since_last_order > 45")])
        var customers = InMemoryCustomers()
        var changes: [AudienceChange] = []
        func apply(_ event: Event) throws {
            try engine.apply(event, partition: 0, in: &customers)
            engine.takeAudienceChanges { changes.append($0) }
        }
        for i in 0..<30 { try apply(Self.purchase("c-\(i)", at: Self.t0 + Int64(i) * 60_000, value: 10)) }
        #expect(changes.isEmpty)
        // Only the "other" customer is active, in small steps of days: the rest are moved by timers.
        for day in 1...60 {
            let t = Self.t0 + Int64(day) * Self.day
            for n in 0..<10 {
                try apply(Event(eventID: "o-\(day)-\(n)", customerID: "other", type: .pageView, timestamp: t))
            }
        }
        let entered = changes.filter { $0.entered && $0.customerID.hasPrefix("c-") }
        #expect(Set(entered.map(\.customerID)).count == 30)
        #expect(entered.allSatisfy { $0.cause == .timer && $0.seq == 1 })
        #expect(entered.allSatisfy { $0.at >= Self.t0 + 45 * Self.day && $0.at <= Self.t0 + 47 * Self.day })
    }

    @Test("an engine whose records are stored and read back every 97 events emits the same audience events")
    func storedStateGivesTheSameEvents() throws {
        let events = Array(SyntheticShoppers(customers: 300, events: 6_000, seed: 7))
        func run(roundTrip: Bool) throws -> [String] {
            var engine = SegmentationEngine(segmentation: Segmentation(configuration: Self.configuration()))
            engine.audiences = try Self.rules()
            var customers = InMemoryCustomers()
            var lines: [String] = []
            for (n, event) in events.enumerated() {
                try engine.apply(event, partition: 0, in: &customers)
                engine.takeAudienceChanges { lines.append($0.jsonLine()) }
                if roundTrip, n % 97 == 96 {
                    for var record in customers.records {
                        record.audiences = try CustomerAudiences(encoded: record.audiences.encoded())
                        customers.update(record)
                    }
                }
            }
            return lines
        }
        let expected = try run(roundTrip: false)
        #expect(expected.count > 50)
        #expect(expected.contains { $0.contains(#""cause":"timer""#) })
        #expect(try run(roundTrip: true) == expected)
    }

    @Test("a back-fill enters the current members once; a second back-fill finds nothing to change")
    func backfill() throws {
        var engine = SegmentationEngine(segmentation: Segmentation(configuration: Self.configuration()))
        var customers = InMemoryCustomers()
        for event in SyntheticShoppers(customers: 200, events: 3_000, seed: 3) {
            try engine.apply(event, partition: 0, in: &customers)
        }
        engine.takeChanges { _ in }
        let timers = Dictionary(uniqueKeysWithValues: customers.records.map { ($0.customerID, $0.timerDueAt) })
        engine.audiences = try Self.rules()
        var changes: [AudienceChange] = []
        var cursor: CustomerWalkKey? = nil
        repeat {
            cursor = try engine.backfillAudiences(in: &customers, after: cursor, limit: 64)
            engine.takeAudienceChanges { changes.append($0) }
        } while cursor != nil
        #expect(!changes.isEmpty && changes.allSatisfy { $0.cause == .backfill && $0.entered && $0.seq == 1 })
        let moved = customers.records.filter { record in
            let segmentDue = record.audiences.sharedTimerDueAt == nil
                ? record.timerDueAt : record.audiences.segmentTimerDueAt
            return segmentDue != timers[record.customerID]!
        }
        #expect(moved.isEmpty, "the back-fill leaves every segment timer as the stream left it")
        #expect(customers.records.contains { $0.audiences.sharedTimerDueAt != nil }, "it sets audience timers")
        let members = customers.records.filter { $0.audiences.memberships["big_spenders"]?.isMember == true }
        #expect(changes.filter { $0.audienceID == "big_spenders" }.count == members.count)
        #expect(try engine.backfillAudiences(in: &customers, after: nil, limit: 10_000) == nil)
        #expect(!engine.hasChanges, "membership is stored with the records: nothing changes twice")
    }

    @Test("a bad audience fails with its id, the position in its condition and what was expected")
    func configurationErrors() throws {
        let bad = [
            Audience(id: "ok", name: "OK", when: "orders_30d > 1"),
            Audience(id: "broken", name: "Broken", when: "orders_30d >> 1"),
            Audience(id: "ok", name: "", when: "in_audience('later')"),
            Audience(id: "later", name: "Later", when: "true"),
        ]
        let error = try #require(throws: AudienceRulesError.self) { try Self.rules(bad) }
        #expect(error.problems == [
            "audiences[1] (broken).when: at position 13: expected a number or a text in quotes, found `>` in "
                + "\"orders_30d >> 1\"",
            "audiences[2].id: \"ok\" is used twice; every audience needs its own id",
            "audiences[2] (ok).name: is empty; give a name",
            "audiences[2] (ok).when: at position 13: in_audience('later') refers to this audience or one defined "
                + "after it; list 'later' earlier in audiences (references must not form a cycle) in "
                + "\"in_audience('later')\"",
        ])
    }

    @Test("an audience change is a Segment track call with a deterministic message id and no wall-clock time")
    func jsonLine() {
        let change = AudienceChange(
            customerID: "c-1", audienceID: "vip", audienceName: "VIP \"gold\"", entered: false, seq: 2,
            cause: .timer, at: 1_772_000_000_000, features: [("orders_30d", 2.5)],
            traits: [("favourite_category", .text("shoes")), ("max_order_90d", nil)])
        #expect(change.jsonLine() == #"{"type":"track","event":"Audience Exited","userId":"c-1","#
            + #""messageId":"c-1:vip:2","timestamp":"2026-02-25T06:13:20.000Z","properties":{"audience_key":"vip","#
            + #""audience_name":"VIP \"gold\"","cause":"timer","seq":2,"features":{"orders_30d":2.5},"#
            + #""traits":{"favourite_category":"shoes","max_order_90d":null}},"#
            + #""context":{"library":{"name":"segmenter"}}}"#)
    }
}
