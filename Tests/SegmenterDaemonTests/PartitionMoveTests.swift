import Foundation
import SegmenterKafka
import SegmenterStore
import Testing

@testable import SegmenterDaemon

/// The stores of a consumer group as one: each partition is taken from the store that has consumed it furthest —
/// its owner (a store keeps the customers of partitions that moved away, at the offset they left at).
struct GroupContents {
    var counts: [String: Int64] = [:]
    var sequences: [String: Int64] = [:]
    var consumed: Int64 = 0

    init(dataDirectories: [String]) throws {
        let stores = try dataDirectories
            .filter { FileManager.default.fileExists(atPath: $0 + "/" + DataDirectory.databaseFileName) }
            .map { try StoreContents(dataDirectory: $0) }
        var owner: [Int32: (store: Int, offset: Int64)] = [:]
        for (index, store) in stores.enumerated() {
            for (key, offset) in store.offsets where key.topic == "events" {
                if offset > owner[key.partition]?.offset ?? -1 { owner[key.partition] = (index, offset) }
            }
        }
        consumed = owner.values.map(\.offset).reduce(0, +)
        for (index, store) in stores.enumerated() {
            for (id, partition) in store.partitions where owner[partition]?.store == index {
                counts[id] = store.counts[id]
                sequences[id] = store.sequences[id]
            }
        }
    }
}

/// Waits until the group's owners have consumed `total` messages.
func waitUntilGroupConsumed(_ total: Int, dataDirectories: [String], within deadline: Duration = .seconds(120))
    -> Bool
{
    let end = ContinuousClock.now + deadline
    while ContinuousClock.now < end {
        if let contents = try? GroupContents(dataDirectories: dataDirectories), contents.consumed >= Int64(total) {
            return true
        }
        Thread.sleep(forTimeInterval: 0.3)
    }
    return false
}

@Suite("partition state moves with its partition", .serialized)
struct PartitionMoveTests {
    @Test("partitions moving on join, on SIGTERM and on kill -9 keep exact counts, gap-free change chains, one model")
    func movesKeepState() throws {
        try withTemporaryDirectory { directory in
            let broker = try makeBroker(partitions: 6)
            let (all, expected) = generatedMessages(customers: 1_200, events: 48_000, seed: 31)
            let rounds = stride(from: 0, to: all.count, by: all.count / 4).map {
                Array(all[$0..<min($0 + all.count / 4, all.count)])
            }
            let dirs = ["a", "b", "c"].map { directory.appendingPathComponent($0).path }
            func start(_ index: Int, _ name: String) throws -> DaemonProcess {
                try DaemonProcess(
                    configFile: try writeConfig(broker: broker, dataDirectory: dirs[index], in: directory),
                    logDirectory: directory, name: name)
            }
            var sent = 0
            func send(_ round: Int) throws {
                try produce(rounds[round], broker: broker)
                sent += rounds[round].count
            }
            // A alone.
            try send(0)
            let a = try start(0, "a")
            #expect(waitUntilGroupConsumed(sent, dataDirectories: dirs))
            // B joins: partitions move from A to B, whose store has never seen them.
            let b = try start(1, "b")
            Thread.sleep(forTimeInterval: 12)
            try send(1)
            #expect(waitUntilGroupConsumed(sent, dataDirectories: dirs))
            // A leaves on SIGTERM: its partitions move to B.
            a.kill(SIGTERM)
            #expect(a.wait(.seconds(20)) == 0)
            try send(2)
            #expect(waitUntilGroupConsumed(sent, dataDirectories: dirs))
            // C joins, then B is killed: B's partitions move to C after the session timeout, and A comes back.
            let c = try start(2, "c")
            Thread.sleep(forTimeInterval: 12)
            b.kill(SIGKILL)
            _ = b.wait(.seconds(10))
            let a2 = try start(0, "a-again")
            try send(3)
            #expect(waitUntilGroupConsumed(sent, dataDirectories: dirs, within: .seconds(180)))
            Thread.sleep(forTimeInterval: 2)
            for daemon in [c, a2] { daemon.kill(SIGTERM) }
            for daemon in [c, a2] { #expect(daemon.wait(.seconds(20)) == 0) }

            let group = try GroupContents(dataDirectories: dirs)
            let wrong = expected.filter { group.counts[$0.key] != $0.value }
            #expect(wrong.isEmpty, "every customer's count is exact in its owner's store; \(wrong.count) are not")

            // Each store answers only for its own partitions: C dropped those that moved to A on its return, and A
            // dropped at start those that had moved to B while it was down.
            let (cHeld, aHeld) = try (StoreContents(dataDirectory: dirs[2]), StoreContents(dataDirectory: dirs[0]))
            let overlap = Set(cHeld.partitions.values).intersection(Set(aHeld.partitions.values))
            #expect(overlap.isEmpty, "no partition's customers are in both running instances' stores: \(overlap)")
            #expect(Set(cHeld.offsets.keys).isDisjoint(with: Set(aHeld.offsets.keys)))

            // Chains: every published change id of a customer is 1…n without a gap, one first assignment each.
            let published = try readAll("segment-changes", from: broker, atLeast: 1, within: .seconds(60))
            var seqs: [String: Set<Int64>] = [:]
            var firsts: [String: Set<Int64>] = [:]
            for message in published {
                let json = try #require(try JSONSerialization.jsonObject(with: Data(message.value)) as? [String: Any])
                let id = try #require(json["customer_id"] as? String)
                let eventID = try #require(json["event_id"] as? String)
                let seq = try #require(Int64(eventID.split(separator: ":").last ?? ""))
                seqs[id, default: []].insert(seq)
                if json["previous_segment"] is NSNull { firsts[id, default: []].insert(seq) }
            }
            let gaps = seqs.filter { $0.value != Set(1...($0.value.max() ?? 1)) }
            #expect(gaps.isEmpty, "no change chain has a gap; \(gaps.count) do")
            let resets = firsts.filter { $0.value != [1] }
            #expect(resets.isEmpty, "no chain restarts with a second first assignment; \(resets.count) do")
            let behind = seqs.filter { (group.sequences[$0.key] ?? 0) != $0.value.max() }
            #expect(behind.isEmpty, "each owner's transition number is the chain's last; \(behind.count) differ")

            // One model for the group: the leader (owner of partition 0) published it, leadership moved with
            // partition 0 (A, then B when A left, then C or A again when B was killed), versions never went back,
            // and the instances still running at the end hold the version last published.
            let models = try readAll("segmenter-events-model", from: broker, atLeast: 1, within: .seconds(30))
                .compactMap { GroupModel.decode($0.value) }
            let versions = models.map(\.version)
            #expect(!models.isEmpty)
            #expect(versions == versions.sorted(), "published versions never decrease: \(versions)")
            // (A and A-again share a data directory, so an instance id: count the handovers, not the ids.)
            let handovers = zip(models, models.dropFirst()).filter { $0.leader != $1.leader }.count
            #expect(handovers >= 2, "the lead moved with partition 0 at least twice: \(models.map(\.leader))")
            let last = try #require(models.last)
            for dir in [dirs[2], dirs[0]] {
                let stored = try #require(try StoreReader(path: dir + "/" + DataDirectory.databaseFileName).model())
                #expect(stored.version == last.version, "\(dir) assigns with the group's last version")
            }
            let carried = Set(published.compactMap { message -> Int64? in
                let json = try? JSONSerialization.jsonObject(with: Data(message.value)) as? [String: Any]
                return (json?["model_version"] as? NSNumber)?.int64Value
            })
            #expect(carried.allSatisfy { $0 >= 1 && $0 <= last.version },
                    "every change carries a version of the group's model: \(carried.sorted())")
        }
    }
}
