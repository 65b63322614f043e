import Testing
@testable import SegmenterCore

@Suite("SyntheticShoppers")
struct SyntheticShoppersTests {
    private func all(_ shoppers: SyntheticShoppers) -> [Event] { Array(IteratorSequence(shoppers)) }

    @Test("the same seed gives the same events; another seed gives other events")
    func deterministic() {
        let first = all(SyntheticShoppers(customers: 300, events: 20_000, seed: 42))
        let second = all(SyntheticShoppers(customers: 300, events: 20_000, seed: 42))
        let other = all(SyntheticShoppers(customers: 300, events: 20_000, seed: 43))
        #expect(first == second)
        #expect(first != other)
        #expect(SyntheticShoppers(customers: 300, events: 1, seed: 42).truth.map(\.persona)
            == SyntheticShoppers(customers: 300, events: 1, seed: 42).truth.map(\.persona))
    }

    @Test("emits exactly the requested number of events, with unique event ids, in non-decreasing time order")
    func countOrderAndIDs() {
        for (customers, events) in [(1_000, 50_000), (50, 7), (6, 0)] {
            let stream = all(SyntheticShoppers(customers: customers, events: events, seed: 5))
            #expect(stream.count == events)
            #expect(zip(stream, stream.dropFirst()).allSatisfy { $0.timestamp <= $1.timestamp })
            #expect(Set(stream.compactMap(\.eventID)).count == events)
        }
    }

    @Test("every persona is present, roughly evenly, and every event has a known customer id")
    func personas() {
        let shoppers = SyntheticShoppers(customers: 600, events: 30_000, seed: 9)
        var counts: [Persona: Int] = [:]
        for (_, persona) in shoppers.truth { counts[persona, default: 0] += 1 }
        #expect(Set(counts.keys) == Set(Persona.allCases))
        #expect(counts.values.allSatisfy { $0 == 100 })
        #expect(shoppers.customerID(at: 123) == "c-000123")
        let known = Set(shoppers.truth.map(\.customerID))
        #expect(all(shoppers).allSatisfy { known.contains($0.customerID) })
    }

    @Test("events spread over the timeline and dormant customers have none after its first half")
    func timelineAndDormancy() {
        let shoppers = SyntheticShoppers(customers: 1_200, events: 100_000, seed: 3, days: 56)
        let events = all(shoppers)
        let dayMs: Int64 = 86_400_000
        let halfway = shoppers.start + 28 * dayMs
        let dormant = Set(shoppers.truth.filter { $0.persona == .dormant }.map(\.customerID))
        #expect(!dormant.isEmpty)
        #expect(events.contains { dormant.contains($0.customerID) })
        #expect(!events.contains { dormant.contains($0.customerID) && $0.timestamp >= halfway })
        let last = events.last!.timestamp
        #expect(last > shoppers.start + 45 * dayMs && last < shoppers.start + 70 * dayMs)
        #expect(events.first!.timestamp >= shoppers.start)
    }

    @Test("personas differ in the behaviour that segmentation should find")
    func behaviour() {
        let shoppers = SyntheticShoppers(customers: 1_200, events: 150_000, seed: 17)
        var personaOf: [String: Persona] = [:]
        for (id, persona) in shoppers.truth { personaOf[id] = persona }
        struct Tally { var events = 0, sessions = 0, searches = 0, carts = 0, purchases = 0, refunds = 0
            var revenue = 0.0; var categories: Set<String> = [] }
        var tallies: [Persona: Tally] = [:]
        for event in IteratorSequence(shoppers) {
            let persona = personaOf[event.customerID]!
            var tally = tallies[persona, default: Tally()]
            tally.events += 1
            switch event.type {
            case .sessionStart: tally.sessions += 1
            case .search: tally.searches += 1
            case .addToCart: tally.carts += 1
            case .purchase: tally.purchases += 1; tally.revenue += event.value ?? 0
            case .refund: tally.refunds += 1
            default: break
            }
            if let category = event.category { tally.categories.insert(category) }
            tallies[persona] = tally
        }
        let window = tallies[.windowShopper]!, bargain = tallies[.bargainHunter]!, loyal = tallies[.loyalHighValue]!
        let oneTime = tallies[.oneTimeBuyer]!, abandoner = tallies[.cartAbandoner]!
        #expect(window.carts == 0 && window.purchases == 0)
        #expect(window.categories.count == SyntheticShoppers.categories.count)
        #expect(bargain.searches * 2 > bargain.events / 3)
        #expect(bargain.refunds > 0 && loyal.refunds * 5 < loyal.purchases)
        #expect(loyal.revenue / Double(loyal.purchases) > 3 * bargain.revenue / Double(bargain.purchases))
        #expect(oneTime.purchases == 200)
        #expect(Double(abandoner.purchases) < 0.15 * Double(abandoner.sessions))
        #expect(Double(abandoner.carts) > 1.0 * Double(abandoner.sessions))
    }
}
