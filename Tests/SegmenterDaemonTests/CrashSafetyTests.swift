import Foundation
import SegmenterCore
import SegmenterKafka
import SegmenterStore
import Testing

@testable import SegmenterDaemon

@Suite("daemon as a process: crashes, shutdown, groups", .serialized, .timeLimit(.minutes(8)))
struct CrashSafetyTests {
    @Test("killed with SIGKILL five times while consuming, the daemon ends with exact counts and every change, timers included, published")
    func killNineRepeatedly() throws {
        try withTemporaryDirectory { directory in
            let broker = try makeBroker(partitions: 16)
            let (messages, expected) = generatedMessages(customers: 5_000, events: 250_000, seed: 13)
            try produce(messages, broker: broker)
            let data = directory.appendingPathComponent("data").path
            // Small batches: many commits to crash between, and a pace the five kills can keep up with.
            let config = try writeConfig(broker: broker, dataDirectory: data, batchSize: 300, in: directory)
            var rng = SplitMix64(seed: 77)
            var consumedAtKill: [Int64] = []
            for round in 0..<5 {
                let daemon = try DaemonProcess(configFile: config, logDirectory: directory, name: "kill-\(round)")
                // Let it get past the group join and commit something new, then kill it at a random moment.
                let before = storedConsumed(data)
                let end = ContinuousClock.now + .seconds(60)
                while ContinuousClock.now < end, storedConsumed(data) <= before {
                    Thread.sleep(forTimeInterval: 0.1)
                }
                Thread.sleep(forTimeInterval: Double(20 + rng.next() % 150) / 1_000)
                daemon.kill(SIGKILL)
                #expect(daemon.wait(.seconds(10)) != nil)
                consumedAtKill.append(storedConsumed(data))
            }
            print("consumed at each kill: \(consumedAtKill) of \(messages.count)")
            #expect(consumedAtKill.last ?? 0 < Int64(messages.count), "the kills happened while consuming: \(consumedAtKill)")
            let daemon = try DaemonProcess(configFile: config, logDirectory: directory, name: "final")
            #expect(daemon.waitUntilStarted(), "started: \(daemon.output.suffix(500))")
            #expect(try waitUntilConsumed(messages.count, dataDirectories: [data], within: .seconds(180)))
            // Let the outbox drain, then stop cleanly.
            let drained = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < drained, (try? StoreContents(dataDirectory: data).outbox) ?? 1 > 0 {
                Thread.sleep(forTimeInterval: 0.2)
            }
            daemon.kill(SIGTERM)
            #expect(daemon.wait(.seconds(15)) == 0, "clean exit: \(daemon.output.suffix(500))")

            let stored = try StoreContents(dataDirectory: data)
            #expect(stored.counts == expected, "nothing lost, nothing doubled across \(consumedAtKill) kills")
            #expect(stored.outbox == 0)
            let timerMoves = stored.transitions.values.joined().filter { $0.cause == "timer" }.count
            #expect(timerMoves > 0, "the stream ages customers into dormancy, so timer changes are part of the check")
            try expectEveryTransitionPublished(stored, broker: broker)
        }
    }

    @Test("SIGTERM during load exits 0 within 10 s with everything it consumed committed and published")
    func sigtermDuringLoad() throws {
        try withTemporaryDirectory { directory in
            let broker = try makeBroker(partitions: 4)
            let (messages, _) = generatedMessages(customers: 2_000, events: 80_000, seed: 5)
            try produce(messages, broker: broker)
            let data = directory.appendingPathComponent("data").path
            let daemon = try DaemonProcess(
                configFile: try writeConfig(broker: broker, dataDirectory: data, in: directory),
                logDirectory: directory, name: "term")
            #expect(daemon.waitUntilStarted())
            let end = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < end, storedConsumed(data) < 5_000 {
                Thread.sleep(forTimeInterval: 0.05)
            }
            daemon.kill(SIGTERM)
            let started = ContinuousClock.now
            let status = daemon.wait(.seconds(10))
            #expect(status == 0, "exit status \(String(describing: status)) after \(ContinuousClock.now - started): \(daemon.output.suffix(1_500))")
            let stored = try StoreContents(dataDirectory: data)
            #expect(stored.consumed < Int64(messages.count), "it was stopped during the load")
            #expect(stored.counts.values.reduce(0, +) == stored.consumed, "every consumed event applied and stored")
            #expect(stored.outbox == 0, "the producer was flushed")
        }
    }

    @Test("two daemons in one group split the partitions and together apply every event exactly once")
    func twoDaemons() throws {
        try withTemporaryDirectory { directory in
            let broker = try makeBroker(partitions: 8)
            let (messages, expected) = generatedMessages(customers: 2_000, events: 60_000, seed: 21)
            try produce(messages, broker: broker)
            let dataA = directory.appendingPathComponent("a").path
            let dataB = directory.appendingPathComponent("b").path
            let a = try DaemonProcess(configFile: try writeConfig(broker: broker, dataDirectory: dataA, in: directory),
                                      logDirectory: directory, name: "a")
            let b = try DaemonProcess(configFile: try writeConfig(broker: broker, dataDirectory: dataB, in: directory),
                                      logDirectory: directory, name: "b")
            #expect(try waitUntilGroupConsumed(messages.count, dataDirectories: [dataA, dataB], within: .seconds(180)))
            a.kill(SIGTERM)
            b.kill(SIGTERM)
            #expect(a.wait(.seconds(15)) == 0)
            #expect(b.wait(.seconds(15)) == 0)
            let storedA = try StoreContents(dataDirectory: dataA)
            let storedB = try StoreContents(dataDirectory: dataB)
            #expect(!storedA.offsets.isEmpty && !storedB.offsets.isEmpty, "both took partitions")
            // A partition that moved is in both stores; its owner's copy is the one that counts.
            let together = try GroupContents(dataDirectories: [dataA, dataB]).counts
            #expect(together == expected, "each event applied exactly once by the partition's owner")
        }
    }
}
