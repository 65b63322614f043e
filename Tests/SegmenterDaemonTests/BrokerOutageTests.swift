import Foundation
import SegmenterKafka
import Testing

@testable import SegmenterDaemon

/// GET on the daemon's HTTP port: (status, body), or nil when nothing answered within 5 s.
private func get(_ path: String, port: Int) -> (Int, String)? {
    httpRequest("GET", path, port: port)
}

@Suite("broker outage", .serialized, .timeLimit(.minutes(6)))
struct BrokerOutageTests {
    @Test("every broker down for 60 s mid-load: the daemon stays up, /readyz says why, and afterwards every event is applied once and every change published")
    func outageInTheMiddleOfALoad() throws {
        try withTemporaryDirectory { directory in
            let broker = try makeBroker(partitions: 8)
            let (messages, expected) = generatedMessages(customers: 3_000, events: 120_000, seed: 21)
            try produce(messages, broker: broker)
            let data = directory.appendingPathComponent("data").path
            let port = try freeLoopbackPort()
            let config = try writeConfig(broker: broker, dataDirectory: data, batchSize: 200, httpPort: port,
                                         in: directory)
            let daemon = try DaemonProcess(configFile: config, logDirectory: directory, name: "outage")
            #expect(daemon.waitUntilStarted(), "started: \(daemon.output.suffix(500))")
            #expect(within(.seconds(60)) { storedConsumed(data) > 5_000 } != nil, "consuming before the outage")

            try broker.setBroker(1, up: false)
            let consumedAtOutage = storedConsumed(data)
            // Lag alone can make /readyz 503 here (the load is far from consumed): wait for the outage's reason.
            let noticed = within(.seconds(15)) {
                guard let (status, body) = get("/readyz", port: port) else { return false }
                return status == 503 && body.contains("no Kafka broker is reachable")
            }
            #expect(noticed != nil, "/readyz names the outage within seconds: \(get("/readyz", port: port)?.1 ?? "")")
            print("outage noticed by /readyz after \(noticed.map { "\($0)" } ?? "never")")
            #expect(get("/metrics", port: port)?.1.contains("segmenter_kafka_brokers_up 0") == true)
            Thread.sleep(forTimeInterval: 60)
            #expect(daemon.process.isRunning, "the daemon survives a minute without brokers")
            #expect(storedConsumed(data) < Int64(messages.count), "the outage happened mid-load")

            try broker.setBroker(1, up: true)
            #expect(try waitUntilConsumed(messages.count, dataDirectories: [data], within: .seconds(120)))
            let recovered = within(.seconds(30)) { get("/readyz", port: port)?.0 == 200 }
            #expect(recovered != nil, "/readyz is 200 again after recovery: \(get("/readyz", port: port)?.1 ?? "")")
            #expect(get("/metrics", port: port)?.1.contains("segmenter_kafka_brokers_up 1") == true)
            let drained = within(.seconds(60)) { ((try? StoreContents(dataDirectory: data).outbox) ?? 1) == 0 }
            #expect(drained != nil, "the outbox drains after the outage")
            daemon.kill(SIGTERM)
            #expect(daemon.wait(.seconds(10)) == 0, "clean exit within 10 s: \(daemon.output.suffix(800))")

            let stored = try StoreContents(dataDirectory: data)
            #expect(stored.counts == expected, "nothing lost, nothing doubled (outage at \(consumedAtOutage))")
            try expectEveryTransitionPublished(stored, broker: broker)
            #expect(!daemon.output.contains("%3|"), "librdkafka's lines go through the daemon's log, not raw stderr")
        }
    }

    @Test("while the changes topic cannot be written, consuming goes on, the outbox grows and shows it, and it drains afterwards")
    func changesTopicUnwritable() throws {
        try withTemporaryDirectory { directory in
            let broker = try makeBroker(partitions: 4)
            let (messages, expected) = generatedMessages(customers: 2_000, events: 60_000, seed: 23)
            try produce(messages, broker: broker)
            let data = directory.appendingPathComponent("data").path
            let port = try freeLoopbackPort()
            let config = try writeConfig(broker: broker, dataDirectory: data, batchSize: 200, httpPort: port,
                                         in: directory)
            let daemon = try DaemonProcess(configFile: config, logDirectory: directory, name: "unwritable")
            #expect(daemon.waitUntilStarted(), "started: \(daemon.output.suffix(500))")
            #expect(within(.seconds(60)) { storedConsumed(data) > 2_000 } != nil, "consuming before the fault")
            for partition in 0..<Int32(4) { try broker.setLeader(of: "segment-changes", partition: partition, to: -1) }
            func pending() -> Double? {
                guard let text = get("/metrics", port: port)?.1,
                      let line = text.split(separator: "\n").first(where: { $0.hasPrefix("segmenter_outbox_pending ") })
                else { return nil }
                return Double(line.split(separator: " ")[1])
            }
            let grew = within(.seconds(30)) { (pending() ?? 0) > 1_000 }
            #expect(grew != nil, "segmenter_outbox_pending shows the backlog: \(pending() ?? -1)")
            #expect(try waitUntilConsumed(messages.count, dataDirectories: [data], within: .seconds(120)),
                    "events are still consumed and committed while changes cannot be published")
            for partition in 0..<Int32(4) { try broker.setLeader(of: "segment-changes", partition: partition, to: 1) }
            let drained = within(.seconds(90)) { pending() == 0 }
            #expect(drained != nil, "the outbox drains once the topic is writable: \(pending() ?? -1) left")
            daemon.kill(SIGTERM)
            #expect(daemon.wait(.seconds(10)) == 0, "clean exit within 10 s: \(daemon.output.suffix(800))")
            let stored = try StoreContents(dataDirectory: data)
            #expect(stored.counts == expected)
            #expect(stored.outbox == 0)
            try expectEveryTransitionPublished(stored, broker: broker)
        }
    }

    @Test("SIGTERM while every broker is down exits 0 within 10 s; a restart after recovery finishes with exact counts")
    func sigtermDuringOutage() throws {
        try withTemporaryDirectory { directory in
            let broker = try makeBroker(partitions: 4)
            let (messages, expected) = generatedMessages(customers: 2_000, events: 60_000, seed: 29)
            try produce(messages, broker: broker)
            let data = directory.appendingPathComponent("data").path
            let config = try writeConfig(broker: broker, dataDirectory: data, batchSize: 200, in: directory)
            let daemon = try DaemonProcess(configFile: config, logDirectory: directory, name: "term-outage")
            #expect(daemon.waitUntilStarted(), "started: \(daemon.output.suffix(500))")
            #expect(within(.seconds(60)) { storedConsumed(data) > 2_000 } != nil, "consuming before the outage")
            try broker.setBroker(1, up: false)
            Thread.sleep(forTimeInterval: 3)
            let stopped = ContinuousClock.now
            daemon.kill(SIGTERM)
            #expect(daemon.wait(.seconds(10)) == 0, "clean exit within 10 s: \(daemon.output.suffix(800))")
            print("SIGTERM during the outage: exited after \(ContinuousClock.now - stopped)")
            try broker.setBroker(1, up: true)
            let again = try DaemonProcess(configFile: config, logDirectory: directory, name: "term-outage-again")
            #expect(again.waitUntilStarted(), "restarted: \(again.output.suffix(500))")
            #expect(try waitUntilConsumed(messages.count, dataDirectories: [data], within: .seconds(120)))
            let drained = within(.seconds(60)) { ((try? StoreContents(dataDirectory: data).outbox) ?? 1) == 0 }
            #expect(drained != nil, "the outbox drains after the restart")
            again.kill(SIGTERM)
            #expect(again.wait(.seconds(10)) == 0)
            let stored = try StoreContents(dataDirectory: data)
            #expect(stored.counts == expected, "nothing lost, nothing doubled")
            try expectEveryTransitionPublished(stored, broker: broker)
        }
    }
}
