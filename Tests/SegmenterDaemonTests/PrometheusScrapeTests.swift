import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HummingbirdTesting
import Logging
import SegmenterKafka
import Testing

@testable import SegmenterDaemon

@Suite("a real Prometheus scraping the daemon", .serialized, .timeLimit(.minutes(3)))
struct PrometheusScrapeTests {
    @Test("Prometheus reads segmenter_consumer_lag for every partition and sees it reach 0 once caught up")
    func lagThroughPrometheus() async throws {
        let prometheusBinary = "/usr/bin/prometheus"
        guard FileManager.default.isExecutableFile(atPath: prometheusBinary) else {
            Issue.record("Prometheus is not installed at \(prometheusBinary): run scripts/check-deploy (it installs it)")
            return
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("prom-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let broker = try makeBroker(partitions: 4)
        let (messages, _) = generatedMessages(customers: 300, events: 5_000, seed: 6)
        try produce(messages, broker: broker)
        let configuration = try testConfiguration(
            broker: broker, dataDirectory: directory.appendingPathComponent("data").path, initSample: 200)
        let running = try RunningPipeline(configuration)
        defer { try? running.finish() }

        try await withLiveServer(status: running.pipeline.status, configuration: configuration) { client in
            let port = try #require(client.port)
            let prometheusPort = try freeLoopbackPort()
            let config = directory.appendingPathComponent("prometheus.yml")
            try """
                global:
                  scrape_interval: 1s
                scrape_configs:
                  - job_name: segmenter
                    static_configs:
                      - targets: ["127.0.0.1:\(port)"]
                """.write(to: config, atomically: true, encoding: .utf8)
            let prometheus = Process()
            prometheus.executableURL = URL(fileURLWithPath: prometheusBinary)
            prometheus.arguments = [
                "--config.file=\(config.path)", "--storage.tsdb.path=\(directory.appendingPathComponent("tsdb").path)",
                "--web.listen-address=127.0.0.1:\(prometheusPort)",
            ]
            prometheus.standardOutput = FileHandle.nullDevice
            prometheus.standardError = FileHandle.nullDevice
            try prometheus.run()
            defer {
                prometheus.terminate()
                prometheus.waitUntilExit()
            }
            var partitions: Set<String> = []
            var total: Double = -1
            let end = ContinuousClock.now + .seconds(90)
            while ContinuousClock.now < end {
                try await Task.sleep(for: .seconds(1))
                guard let series = try? await query("segmenter_consumer_lag", port: prometheusPort) else { continue }
                partitions = Set(series.compactMap { $0.labels["partition"] })
                total = series.reduce(0) { $0 + $1.value }
                if partitions.count == 4, total == 0 { break }
            }
            #expect(partitions == ["0", "1", "2", "3"], "a lag series per partition, read back through Prometheus")
            #expect(total == 0, "lag reaches 0 once caught up")
        }
    }

    struct Sample {
        var labels: [String: String]
        var value: Double
    }

    func query(_ expression: String, port: Int) async throws -> [Sample] {
        let url = URL(string: "http://127.0.0.1:\(port)/api/v1/query?query=\(expression)")!
        let data = try Data(contentsOf: url)
        let json = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let result = (json?["data"] as? [String: Any])?["result"] as? [[String: Any]] ?? []
        return result.compactMap { entry in
            guard let metric = entry["metric"] as? [String: String], let value = entry["value"] as? [Any],
                  let text = value.last as? String, let number = Double(text) else { return nil }
            return Sample(labels: metric, value: number)
        }
    }
}

/// A port on 127.0.0.1 that is free right now (bound to port 0, read back, released).
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
        }
    }
    guard bound else { throw SegmenterError(.unavailable, "cannot find a free port on 127.0.0.1") }
    return Int(UInt16(bigEndian: address.sin_port))
}
