import Foundation
import Testing

@testable import SegmenterDaemon

/// A fresh instance taking over a stopped one's partitions, seen from outside (issue 17): it says ready only once
/// every restored customer can be read, and its restore metrics add up.
@Suite("restore seen through HTTP", .serialized, .timeLimit(.minutes(4)))
struct RestoreDaemonTests {
    @Test("once a fresh instance says ready, every customer of the old owner answers, with its event count")
    func readyMeansRestored() throws {
        try withTemporaryDirectory { directory in
            let broker = try makeBroker(partitions: 8)
            let (messages, expected) = generatedMessages(customers: 4_000, events: 40_000, seed: 61)
            try produce(messages, broker: broker)
            let dirs = ["a", "b"].map { directory.appendingPathComponent($0).path }
            let port = try freeLoopbackPort()
            let a = try DaemonProcess(
                configFile: try writeConfig(broker: broker, dataDirectory: dirs[0], in: directory),
                logDirectory: directory, name: "a")
            #expect(waitUntilGroupConsumed(messages.count, dataDirectories: [dirs[0]]))
            a.kill(SIGTERM)
            #expect(a.wait(.seconds(20)) == 0)
            let old = try StoreContents(dataDirectory: dirs[0])
            #expect(old.counts == expected, "the old owner applied every event once")

            let started = ContinuousClock.now
            let b = try DaemonProcess(
                configFile: try writeConfig(broker: broker, dataDirectory: dirs[1], httpPort: port, in: directory),
                logDirectory: directory, name: "b")
            defer { b.kill(SIGKILL) }
            let ready = within(.seconds(60)) { httpRequest("GET", "/readyz", port: port)?.0 == 200 }
            #expect(ready != nil, "the fresh instance got ready: \(b.output.suffix(800))")
            let readyAfter = ContinuousClock.now - started
            guard ready != nil else { return }

            // Ready means stored: every customer answers at once, with the count the old owner had.
            var wrong: [String] = []
            for id in old.counts.keys.sorted().enumerated().filter({ $0.offset % 40 == 0 }).map(\.element) {
                guard let (status, body) = httpRequest("GET", "/v1/customers/\(id)", port: port), status == 200,
                      let json = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
                      (json["event_count"] as? NSNumber)?.int64Value == old.counts[id]
                else {
                    wrong.append(id)
                    continue
                }
            }
            #expect(wrong.isEmpty,
                    "customers missing or wrong right after ready: \(wrong.prefix(5)); \(b.output.suffix(1500))")

            let metrics = httpRequest("GET", "/metrics", port: port)?.1 ?? ""
            func value(_ name: String) -> Double? {
                metrics.split(separator: "\n").first { $0.hasPrefix(name + " ") }
                    .flatMap { Double($0.split(separator: " ").last ?? "") }
            }
            #expect(value("segmenter_restores_completed") == 8)
            #expect(value("segmenter_restored_customers_total") == Double(old.counts.count))
            let seconds = try #require(value("segmenter_restore_seconds"))
            #expect(seconds > 0 && seconds < readyAfter.seconds,
                    "restore time is wall time, not 8 overlapping durations: \(seconds) s of \(readyAfter)")
            b.kill(SIGTERM)
            #expect(b.wait(.seconds(20)) == 0)
        }
    }
}
