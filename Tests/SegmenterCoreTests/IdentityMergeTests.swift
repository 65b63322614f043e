import Foundation
import SegmenterCore
import Testing

/// Issue 18: identity merges in the core — the state arithmetic, and the engine's protocol of merge records.
@Suite("identity merges")
struct IdentityMergeTests {
    let layout = FeatureLayout(spec: .ecommerce())
    let day: Int64 = 86_400_000
    let start: Int64 = 1_767_225_600_000

    func events(_ id: String, from time: Int64, count: Int, session: String) -> [Event] {
        (0..<count).map { n in
            let types: [EventType] = [.pageView, .productView, .addToCart, .purchase, .search]
            return Event(
                eventID: "\(id)-\(session)-\(n)", customerID: id, type: types[n % types.count],
                timestamp: time + Int64(n) * 60_000, sessionID: session, value: n % 5 == 3 ? 40 + Double(n) : nil,
                category: "cat-\(n % 3)", device: n % 2 == 0 ? "mobile" : "desktop")
        }
    }

    func features(_ state: CustomerState, at time: Int64) -> [Double] {
        var values: [Double] = []
        state.features(at: time, layout: layout, into: &values)
        return values
    }

    @Test("a merged state reads the features one customer with both histories would have")
    func mergeMatchesOneHistory() {
        let anonymous = events("a", from: start, count: 23, session: "s1")
        let known = events("k", from: start + 9 * day, count: 17, session: "s2")
        var a = CustomerState(layout: layout), k = CustomerState(layout: layout), both = CustomerState(layout: layout)
        for event in anonymous { a.apply(event, layout: layout) }
        for event in known { k.apply(event, layout: layout) }
        for event in anonymous + known { both.apply(event, layout: layout) }
        let time = start + 12 * day
        for (into, from) in [(k, a), (a, k)] {
            var merged = into
            merged.merge(from, layout: layout)
            for (x, y) in zip(features(merged, at: time), features(both, at: time)) {
                #expect(abs(x - y) <= 1e-4 * max(1, abs(y)),
                        "\(features(merged, at: time)) vs \(features(both, at: time))")
            }
            #expect(merged.lastEventAt == both.lastEventAt)
        }
    }

    @Test("after a merge the anonymous id's recent event ids are duplicates of the known customer")
    func recentEventIDsUnited() {
        var a = CustomerState(layout: layout), k = CustomerState(layout: layout)
        _ = a.rememberEventID("from-a")
        _ = k.rememberEventID("from-k")
        a.apply(Event(customerID: "a", type: .pageView, timestamp: start), layout: layout)
        k.apply(Event(customerID: "k", type: .pageView, timestamp: start + day), layout: layout)
        k.merge(a, layout: layout)
        let fromA = k.rememberEventID("from-a"), fromK = k.rememberEventID("from-k"), new = k.rememberEventID("new")
        #expect(!fromA && !fromK && new)
    }

    /// The engine with a model, its directory and identity map, applying records right after the message that made
    /// them, as replay does.
    struct Harness {
        var engine: SegmentationEngine
        var customers = InMemoryCustomers()
        var identities = IdentityMap()
        var changes: [SegmentChange] = []
        var sent: [IdentityRecord] = []

        init() throws {
            var c = SegmentationConfiguration()
            c.kmeans.initSample = 300
            c.tickEvents = 250
            // Segments at the first event, so that the anonymous customers of these tests have a chain to end.
            c.firstSegmentAtSessionEnd = false
            engine = SegmentationEngine(segmentation: Segmentation(configuration: c))
            for event in SyntheticShoppers(customers: 300, events: 4_000, seed: 3) { try apply(event) }
            changes.removeAll()
        }

        mutating func apply(_ event: Event) throws {
            try engine.apply(event, partition: 0, in: &customers, identities: &identities)
            try drain()
        }

        mutating func apply(_ record: IdentityRecord) throws {
            try engine.apply(record, partition: 0, in: &customers, identities: &identities) { line in
                try? EventDecoder().decode(Array(line.utf8)).get()
            }
            try drain()
        }

        mutating func drain() throws {
            engine.takeChanges { changes.append($0) }
            var queue: [IdentityRecord] = []
            engine.takeIdentityRecords { queue.append($0) }
            sent += queue
            for record in queue { try apply(record) }
        }

        var time: Int64 { engine.segmentation.watermark }
    }

    func harness() throws -> Harness { try Harness() }

    /// `n` events of `anonymous` a day after the harness's watermark, then `m` of `known` a day later; returns the
    /// first day's time.
    func browse(_ h: inout Harness, anonymous: String, _ n: Int, known: String, _ m: Int) throws -> Int64 {
        let t = h.time + day
        for event in events(anonymous, from: t, count: n, session: "sa") { try h.apply(event) }
        for event in events(known, from: t + day, count: m, session: "sk") { try h.apply(event) }
        return t
    }

    @Test("a tie merges the anonymous customer into the known one once; later anonymous events count for the known one")
    func tieMergesOnce() throws {
        var h = try harness()
        let t = try browse(&h, anonymous: "anon-1", 12, known: "user-1", 5)
        var tie = Event(eventID: "tie", customerID: "user-1", type: .pageView, timestamp: t + 2 * day, sessionID: "sk")
        tie.anonymousID = "anon-1"
        let anonymousSeq = try #require(h.customers.record("anon-1")).transitionSeq
        try h.apply(tie)
        #expect(h.customers.record("anon-1") == nil, "the anonymous customer is gone")
        #expect(try #require(h.customers.record("user-1")).eventCount == 12 + 5 + 1)
        #expect(anonymousSeq > 0)
        let last = try #require(h.changes.last { $0.customerID == "anon-1" })
        #expect(last.segment == nil && last.cause == .merge && last.mergedInto == "user-1")
        #expect(last.sequence == anonymousSeq + 1)
        let merge = h.changes.filter { $0.customerID == "user-1" && $0.cause == .merge }
        #expect(merge.count == 1 && merge.first?.mergedFrom == "anon-1" && merge.first?.segment != nil)
        #expect(merge.first?.jsonLine(emittedAt: 0).contains(#""merged_from":"anon-1"}"#) == true)

        // The same tie again, and the same records delivered twice: nothing more happens.
        tie.eventID = "tie-2"
        try h.apply(tie)
        for record in h.sent where record.kind != .forward { try h.apply(record) }
        #expect(try #require(h.customers.record("user-1")).eventCount == 12 + 5 + 2)
        #expect(h.changes.filter { $0.cause == .merge }.count == merge.count + 1)

        for event in events("anon-1", from: t + 3 * day, count: 4, session: "sa2") { try h.apply(event) }
        #expect(h.customers.record("anon-1") == nil)
        #expect(try #require(h.customers.record("user-1")).eventCount == 12 + 5 + 2 + 4)
    }

    @Test("a tie that comes before the anonymous id's events sends them to the known customer")
    func tieBeforeAnonymousEvents() throws {
        var h = try harness()
        let t = h.time + day
        var tie = Event(eventID: "tie", customerID: "user-2", type: .pageView, timestamp: t)
        tie.anonymousID = "anon-2"
        try h.apply(tie)
        for event in events("anon-2", from: t + 60_000, count: 7, session: "sa") { try h.apply(event) }
        #expect(h.customers.record("anon-2") == nil)
        #expect(try #require(h.customers.record("user-2")).eventCount == 8)
        #expect(!h.changes.contains { $0.customerID == "anon-2" })
    }

    @Test("a chain a → b → c ends with everything at c, each merged id counted once")
    func chain() throws {
        var h = try harness()
        let t = h.time + day
        for (id, n) in [("a", 6), ("b", 4), ("c", 3)] {
            for event in events(id, from: t, count: n, session: "s-\(id)") { try h.apply(event) }
        }
        var ab = Event(eventID: "ab", customerID: "b", type: .pageView, timestamp: t + day)
        ab.anonymousID = "a"
        try h.apply(ab)
        var bc = Event(eventID: "bc", customerID: "c", type: .pageView, timestamp: t + 2 * day)
        bc.anonymousID = "b"
        try h.apply(bc)
        try h.apply(Event(eventID: "late-a", customerID: "a", type: .pageView, timestamp: t + 3 * day))
        #expect(h.customers.record("a") == nil && h.customers.record("b") == nil)
        #expect(try #require(h.customers.record("c")).eventCount == 6 + 4 + 3 + 2 + 1)
        #expect(h.changes.filter { $0.customerID == "c" && $0.cause == .merge }.map(\.mergedFrom) == ["b"])
    }

    func tie(_ json: String) -> IdentityTie? {
        Array(json.utf8).withUnsafeBytes { IdentityTie.segmentCall($0) }
    }

    @Test("Segment identify and alias calls are ties; other calls and calls missing an id or a time are not")
    func segmentTies() {
        let time = #""timestamp":"2026-03-01T12:00:00Z""#
        #expect(tie(#"{"type":"identify","userId":"u","anonymousId":"a",\#(time)}"#)
                == IdentityTie(anonymousID: "a", knownID: "u", at: 1_772_366_400_000))
        #expect(tie(#"{"type":"alias","previousId":"a","userId":"u",\#(time)}"#)?.anonymousID == "a")
        #expect(tie(#"{"type":"identify","userId":"u",\#(time)}"#) == nil, "no anonymous id: nothing to tie")
        #expect(tie(#"{"type":"identify","userId":"u","anonymousId":"u",\#(time)}"#) == nil)
        #expect(tie(#"{"type":"identify","userId":"u","anonymousId":"a"}"#) == nil, "no time")
        #expect(tie(#"{"type":"track","userId":"u","anonymousId":"a",\#(time)}"#) == nil)
        #expect(tie(#"{"type":"group","userId":"u","anonymousId":"a",\#(time)}"#) == nil)
    }

    @Test("an identify call merges the anonymous customer without counting as an event")
    func identifyMerges() throws {
        var h = try harness()
        let t = try browse(&h, anonymous: "anon-3", 6, known: "user-3", 2)
        h.engine.tie(IdentityTie(anonymousID: "anon-3", knownID: "user-3", at: t + 2 * day), identities: &h.identities)
        try h.drain()
        #expect(h.customers.record("anon-3") == nil)
        #expect(try #require(h.customers.record("user-3")).eventCount == 8)
        #expect(h.changes.contains { $0.customerID == "user-3" && $0.mergedFrom == "anon-3" })
    }

    @Test("the identity map keeps at most its capacity, evicting the oldest ties")
    func boundedMap() {
        var map = IdentityMap(capacity: 10)
        for n in 0..<25 { map.set("a\(n)", .init(knownID: "k", state: .sent, linkedAt: Int64(n))) }
        #expect(map.links.count <= 10)
        #expect(map.link("a24") != nil && map.link("a0") == nil)
        let writes = map.takeWrites()
        #expect(writes.evicted.contains("a0") && !writes.set.contains { $0.0 == "a0" })
    }
}
