import Foundation
import SegmenterCore
import SegmenterKafka
import SegmenterStore
import Testing

@testable import SegmenterDaemon

/// Issue 18: identity merges in the daemon, on the embedded broker, where the two ids of a merge live in different
/// partitions and every step of the merge travels as a record through the input topic.
@Suite("identity merges in the daemon", .serialized, .timeLimit(.minutes(8)))
struct IdentityDaemonTests {
    let day: Int64 = 86_400_000

    func segmentLine(_ event: Event) -> (key: [UInt8]?, value: [UInt8]) {
        (Array(event.customerID.utf8), Array(event.jsonLine(format: .segment).utf8))
    }

    func browse(_ id: String, from time: Int64, count: Int, tag: String) -> [Event] {
        (0..<count).map { n in
            Event(eventID: "\(id)-\(tag)-\(n)", customerID: id, type: n % 4 == 3 ? .addToCart : .productView,
                  timestamp: time + Int64(n) * 60_000, sessionID: "\(id)-\(tag)", category: "c\(n % 3)")
        }
    }

    func tie(_ known: String, _ anonymous: String, at time: Int64) -> Event {
        var event = Event(eventID: "tie-\(known)-\(anonymous)", customerID: known, type: .pageView, timestamp: time)
        event.anonymousID = anonymous
        return event
    }

    /// Polls the store until `done` holds for it (or the deadline passes); returns the last contents read.
    func waitFor(_ data: String, within deadline: Duration, _ done: (StoreContents) -> Bool) throws -> StoreContents {
        let end = ContinuousClock.now + deadline
        var last = try? StoreContents(dataDirectory: data)
        while ContinuousClock.now < end {
            if let last, done(last) { return last }
            Thread.sleep(forTimeInterval: 0.3)
            last = try? StoreContents(dataDirectory: data)
        }
        return try last ?? StoreContents(dataDirectory: data)
    }

    @Test("merges across partitions, through SIGKILLs mid-merge: every event counted once, for the known ids")
    func mergesAcrossPartitionsThroughCrashes() throws {
        try withTemporaryDirectory { directory in
            let broker = try makeBroker(partitions: 8)
            let background = Array(SyntheticShoppers(customers: 1_500, events: 40_000, seed: 41))
            let t = (background.map(\.timestamp).max() ?? 0) + day
            var first: [Event] = []
            var expected: [String: Int64] = [:]
            for event in background { expected[event.customerID, default: 0] += 1 }
            for i in 0..<30 {
                // Pairs 20-29: the tie comes before any event of the anonymous id.
                if i < 20 { first += browse("anon-\(i)", from: t, count: 8, tag: "a") }
                first += browse("user-\(i)", from: t + day, count: 3, tag: "u")
                first.append(tie("user-\(i)", "anon-\(i)", at: t + day + 600_000))
                expected["user-\(i)"] = (i < 20 ? 8 : 0) + 3 + 1 + (i < 10 || i >= 20 ? 5 : 0)
            }
            first += browse("chain-a", from: t, count: 6, tag: "a") + browse("chain-b", from: t, count: 4, tag: "b")
            first.append(tie("chain-b", "chain-a", at: t + day))
            // The pairs first: their merge records queue behind the background in each partition, so the kills
            // below fall between a merge's steps (anonymous state sent, not yet merged in).
            // And a Segment identify call: a tie that is no event.
            first += browse("anon-idf", from: t, count: 5, tag: "a") + browse("user-idf", from: t, count: 2, tag: "u")
            expected["user-idf"] = 7
            let when = RFC3339.format(t + day)
            let identify = #"{"type":"identify","userId":"user-idf","anonymousId":"anon-idf","timestamp":"\#(when)"}"#
            try produce(first.map(segmentLine) + [(Array("user-idf".utf8), Array(identify.utf8))]
                + background.map(segmentLine), broker: broker)

            let data = directory.appendingPathComponent("data").path
            let config = try writeConfig(broker: broker, dataDirectory: data, batchSize: 300, in: directory)
            try (String(contentsOfFile: config, encoding: .utf8) + "\ninput:\n  format: segment\n")
                .write(toFile: config, atomically: true, encoding: .utf8)
            var rng = SplitMix64(seed: 5)
            var inFlight: [Int] = []
            for round in 0..<3 {
                let daemon = try DaemonProcess(configFile: config, logDirectory: directory, name: "kill-\(round)")
                let before = storedConsumed(data)
                let end = ContinuousClock.now + .seconds(60)
                while ContinuousClock.now < end, storedConsumed(data) <= before { Thread.sleep(forTimeInterval: 0.05) }
                Thread.sleep(forTimeInterval: Double(50 + rng.next() % 400) / 1_000)
                daemon.kill(SIGKILL)
                #expect(daemon.wait(.seconds(10)) != nil)
                let links = try? StateStore(path: DataDirectory.databasePath(in: data)).identityLinks()
                inFlight.append(links?.filter { $0.state == IdentityMap.State.sent.rawValue }.count ?? -1)
            }
            print("merges sent but not yet merged in at each kill: \(inFlight)")
            let daemon = try DaemonProcess(configFile: config, logDirectory: directory, name: "final")
            #expect(daemon.waitUntilStarted(), "\(daemon.output.suffix(500))")
            let merged = try waitFor(data, within: .seconds(120)) { stored in
                (0..<20).allSatisfy { stored.counts["anon-\($0)"] == nil && stored.counts["user-\($0)"] == 12 }
                    && stored.counts["chain-a"] == nil && stored.counts["chain-b"] == 11
            }
            let pairs = merged.counts.filter { $0.key.hasPrefix("user-") || $0.key.hasPrefix("anon-") }
            #expect((0..<20).allSatisfy { merged.counts["user-\($0)"] == 12 }, "\(pairs)")

            // After the merges: more events under merged ids, events of anonymous ids tied before they had any,
            // the chain's second link, and a merge record delivered a second time.
            var second: [Event] = []
            for i in 0..<10 { second += browse("anon-\(i)", from: t + 2 * day, count: 5, tag: "late") }
            for i in 20..<30 { second += browse("anon-\(i)", from: t + 2 * day, count: 5, tag: "after") }
            second.append(tie("chain-c", "chain-b", at: t + 3 * day))
            second += browse("chain-a", from: t + 4 * day, count: 2, tag: "late")
            var messages = second.map(segmentLine)
            var copy = CustomerState(layout: FeatureLayout(spec: .ecommerce()))
            copy.apply(Event(customerID: "anon-0", type: .purchase, timestamp: t, value: 999),
                       layout: FeatureLayout(spec: .ecommerce()))
            let duplicate = IdentityRecord(
                kind: .mergeState, anonymousID: "anon-0", knownID: "user-0", at: t + day + 600_000, eventCount: 1,
                state: Data(copy.encoded(layout: FeatureLayout(spec: .ecommerce()))))
            messages.append((Array("user-0".utf8), duplicate.encoded()))
            try produce(messages, broker: broker)
            expected["chain-c"] = 6 + 4 + 1 + 1 + 2
            let stored = try waitFor(data, within: .seconds(120)) { stored in
                expected.allSatisfy { stored.counts[$0.key] == $0.value } && stored.counts["chain-b"] == nil
                    && stored.outbox == 0
            }
            let wrong = expected.filter { stored.counts[$0.key] != $0.value }.prefix(10)
            let differences = wrong.map { "\($0.key): \(stored.counts[$0.key] ?? -1) ≠ \($0.value)" }
            #expect(wrong.isEmpty, "counts differ: \(differences)")
            #expect(stored.counts.keys.allSatisfy { !$0.hasPrefix("anon-") && $0 != "chain-a" && $0 != "chain-b" })
            #expect(stored.counts.values.reduce(0, +) == Int64(background.count + first.count + second.count),
                    "every event counted exactly once, the repeated merge record not at all")

            let published = try readAll("segment-changes", from: broker, atLeast: 1, within: .seconds(30))
            var merges: [String: Set<String>] = [:]
            for message in published {
                let json = try JSONSerialization.jsonObject(with: Data(message.value)) as? [String: Any] ?? [:]
                if let from = json["merged_from"] as? String, let id = json["event_id"] as? String {
                    merges[from, default: []].insert(id)
                }
            }
            for i in 0..<20 { #expect(merges["anon-\(i)"]?.count == 1, "one merge change for anon-\(i)") }
            #expect(merges["chain-b"]?.count == 1 && merges["chain-a"]?.count == 1)

            // Erasing a known id that absorbed a merge takes its links too.
            daemon.kill(SIGTERM)
            #expect(daemon.wait(.seconds(15)) == 0)
            var configuration = try SegmenterConfiguration.load(path: config, environment: [:])
            // GET /v1/customers/{id} answers for either id and names the canonical one.
            let queries = QueryService(dataDirectory: data, configuration: configuration.segmentation)
            let viaAnonymous = try queries.customer("anon-3")
            #expect(viaAnonymous.customerID == "anon-3" && viaAnonymous.canonicalID == "user-3")
            #expect(viaAnonymous.eventCount == 17 && viaAnonymous.mergedIDs == ["anon-3"])
            #expect(try queries.customer("chain-a").canonicalID == "chain-c", "a chain is followed to its end")
            #expect(try queries.customer("user-3").canonicalID == "user-3")
            configuration.privacy.suppressErased = true
            _ = try CustomerErasure.runOffline(["user-1"], dataDirectory: data, configuration: configuration)
            let reader = try StoreReader(path: DataDirectory.databasePath(in: data))
            #expect(try reader.customer("user-1") == nil && reader.mergedIDs(into: "user-1").isEmpty)
            #expect(try reader.identityLink(anonymousID: "anon-1") == nil)
            #expect(try reader.mergedIDs(into: "user-2") == ["anon-2"], "other links stay")
            #expect(try StateStore(path: reader.path).suppressedCustomers() == ["user-1", "anon-1"],
                    "the anonymous id merged into the erased customer is suppressed with them")
        }
    }
}
