import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import SegmenterCore
import SegmenterKafka
import Testing

@testable import SegmenterDaemon

/// Debian's chromium, which `scripts/install-deps --with-browser` (run by `scripts/test`) installs.
private func chromium() -> String? {
    let candidates = [ProcessInfo.processInfo.environment["SEGMENTER_CHROMIUM"], "/usr/bin/chromium",
                      "/usr/bin/chromium-browser"]
    return candidates.compactMap { $0 }.first { FileManager.default.isExecutableFile(atPath: $0) }
}

/// Runs headless chromium on `url` with `arguments`, bounded in time; returns what it printed on stdout.
private func runChromium(_ path: String, _ arguments: [String], url: String, profile: URL) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                         "--user-data-dir=\(profile.path)", "--window-size=1280,1600", "--timeout=8000"]
        + arguments + [url]
    let outputFile = profile.deletingLastPathComponent().appendingPathComponent("chromium-\(UUID().uuidString).out")
    FileManager.default.createFile(atPath: outputFile.path, contents: nil)
    let output = try FileHandle(forWritingTo: outputFile)
    defer { try? output.close() }
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    let deadline = Date().addingTimeInterval(60)
    while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
    if process.isRunning {
        process.terminate()
        process.waitUntilExit()
        throw SegmenterError(.timeout, "chromium did not finish within 60 s")
    }
    return try String(contentsOf: outputFile, encoding: .utf8)
}

@Suite("console in a real browser", .serialized)
struct ConsoleBrowserTests {
    /// Where the screenshot is kept for people to look at: `.build/test-artifacts/console.png`.
    static let artifacts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/test-artifacts")

    @Test("the console at / shows the segment names and sizes and the audiences the API reports; screenshot kept")
    func consoleShowsWhatTheAPIReports() async throws {
        let browser = try #require(chromium(), """
            Debian's chromium is not installed: run scripts/install-deps --with-browser (scripts/test does), \
            or point SEGMENTER_CHROMIUM at a chromium binary
            """)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("console-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let broker = try EmbeddedBroker(brokers: 1, topics: [
            "events": 2, "segmenter-events-changelog": 2, "segmenter-events-model": 1,
            "segment-changes": 2, "segmenter-dlq": 1, "audience-changes": 2,
        ])
        let (messages, _) = generatedMessages(customers: 500, events: 6_000, seed: 21)
        try produce(messages, broker: broker)
        let data = directory.path + "/data"
        var configuration = try testConfiguration(broker: broker, dataDirectory: data)
        configuration.audiences = try testAudiences()
        configuration.http.port = 0
        let running = try RunningPipeline(configuration)
        let total = messages.count
        #expect(try await onThread { try waitUntilConsumed(total, dataDirectories: [data]) })
        let status = running.pipeline.status
        let app = HTTPServer.make(
            configuration: configuration, status: status, metrics: SegmenterMetrics(status: status),
            queries: QueryService(dataDirectory: data, configuration: configuration.segmentation,
                                  audiences: configuration.audiences),
            logger: Logger(label: "test"))
        let profile = directory.appendingPathComponent("chromium-profile")
        let k = configuration.segmentation.kmeans.k
        let audiences = configuration.audiences.audiences
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let url = "http://127.0.0.1:\(port)/"
            var segments: [(id: Int, name: String, size: Int)] = []
            try await client.execute(uri: "/v1/segments", method: .get) { response in
                let list = try json(response)["segments"] as? [[String: Any]] ?? []
                segments = list.compactMap { s in
                    guard let id = s["id"] as? Int, let name = s["name"] as? String, let size = s["size"] as? Int
                    else { return nil }
                    return (id, name, size)
                }
            }
            #expect(segments.count == k)
            var dom = ""
            for _ in 0..<5 {
                dom = try await onThread { try runChromium(browser, ["--dump-dom"], url: url, profile: profile) }
                if dom.contains(#"data-loaded="true""#) { break }
            }
            #expect(dom.contains(#"data-loaded="true""#), "the page loaded the API's answers")
            for segment in segments {
                let row = try #require(tableRow(in: dom, attribute: "data-segment-id", value: String(segment.id)),
                                       "the page shows segment \(segment.id)")
                #expect(row.contains(#"<span class="segment-name">\#(escaped(segment.name))</span>"#))
                #expect(row.contains(#"<td class="num segment-size">\#(segment.size)</td>"#))
            }
            for audience in audiences {
                let row = try #require(tableRow(in: dom, attribute: "data-audience-id", value: audience.id))
                #expect(row.contains(#"<td class="audience-name">\#(escaped(audience.name))</td>"#))
            }
            try FileManager.default.createDirectory(at: Self.artifacts, withIntermediateDirectories: true)
            let screenshot = Self.artifacts.appendingPathComponent("console.png")
            try? FileManager.default.removeItem(at: screenshot)
            _ = try await onThread {
                try runChromium(browser, ["--screenshot=\(screenshot.path)"], url: url, profile: profile)
            }
            let size = (try? FileManager.default.attributesOfItem(atPath: screenshot.path)[.size] as? Int) ?? 0
            #expect(size > 20_000, "a screenshot of the console was saved to \(screenshot.path)")
        }
        try running.finish()
    }

    private func tableRow(in dom: String, attribute: String, value: String) -> String? {
        guard let start = dom.range(of: #"<tr \#(attribute)="\#(value)">"#),
              let end = dom.range(of: "</tr>", range: start.upperBound..<dom.endIndex)
        else { return nil }
        return String(dom[start.lowerBound..<end.upperBound])
    }

    private func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
