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
    /// Where `SEGMENTER_DOCS_SCREENSHOT=1` copies it, for the README.
    static let docsScreenshot = artifacts.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/console.png")

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
        let half = messages.count / 2
        try produce(Array(messages[..<half]), broker: broker)
        let data = directory.path + "/data"
        var configuration = try testConfiguration(broker: broker, dataDirectory: data)
        configuration.audiences = try testAudiences()
        configuration.http.port = 0
        let running = try RunningPipeline(configuration)
        let total = messages.count
        let status = running.pipeline.status
        // The server samples the sizes from its start, before the first segment, so the chart has a history to draw.
        let history = SegmentSizeHistory(status: status, spacing: .milliseconds(250))
        let app = HTTPServer.make(
            configuration: configuration, status: status, metrics: SegmenterMetrics(status: status),
            queries: QueryService(dataDirectory: data, configuration: configuration.segmentation,
                                  audiences: configuration.audiences),
            logger: Logger(label: "test"), commands: nil, history: history)
        let profile = directory.appendingPathComponent("chromium-profile")
        let k = configuration.segmentation.kmeans.k
        let audiences = configuration.audiences.audiences
        try await app.test(.live) { client in
            // Events in two waves, each sampled once consumed, so the sizes change over the chart's time.
            #expect(try await onThread { try waitUntilConsumed(half, dataDirectories: [data]) })
            #expect(try await onThread { historyHasCaughtUp(history, status, nonEmpty: false) })
            try produce(Array(messages[half...]), broker: broker)
            #expect(try await onThread { try waitUntilConsumed(total, dataDirectories: [data]) })
            #expect(try await onThread { historyHasCaughtUp(history, status, nonEmpty: true) })
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
            expectChartShows(segments, in: dom)
            try FileManager.default.createDirectory(at: Self.artifacts, withIntermediateDirectories: true)
            let screenshot = Self.artifacts.appendingPathComponent("console.png")
            try? FileManager.default.removeItem(at: screenshot)
            _ = try await onThread {
                try runChromium(browser, ["--screenshot=\(screenshot.path)"], url: url, profile: profile)
            }
            let size = (try? FileManager.default.attributesOfItem(atPath: screenshot.path)[.size] as? Int) ?? 0
            #expect(size > 20_000, "a screenshot of the console was saved to \(screenshot.path)")
            if ProcessInfo.processInfo.environment["SEGMENTER_DOCS_SCREENSHOT"] == "1" {
                try? FileManager.default.removeItem(at: Self.docsScreenshot)
                try FileManager.default.copyItem(at: screenshot, to: Self.docsScreenshot)
            }
        }
        try running.finish()
    }

    /// The sizes-over-time chart says what it shows: a y axis of customers with round values from 0 past the largest
    /// segment, an x axis of times, one line per live segment that moves as sizes changed, and a legend of names.
    private func expectChartShows(_ segments: [(id: Int, name: String, size: Int)], in dom: String) {
        let chart = dom.components(separatedBy: #"<svg id="history""#).dropFirst().first?
            .components(separatedBy: "</svg>").first ?? ""
        let values = texts(of: "y-tick", in: chart).compactMap { Int($0.replacingOccurrences(of: ",", with: "")) }
        #expect(values.first == 0 && values.count >= 3, "y tick values from 0: \(values)")
        #expect(values == values.sorted() && (values.last ?? 0) >= segments.map(\.size).max() ?? 1,
                "the top y tick \(values.last ?? 0) is at least the largest segment")
        #expect(chart.contains(#">customers</text>"#) && chart.contains(#">time (local)</text>"#), "axis titles")
        let times = texts(of: "x-tick", in: chart)
        #expect(times.count >= 2, "time ticks on the x axis: \(times)")
        #expect(times.allSatisfy { $0.wholeMatch(of: /\d\d:\d\d(:\d\d)?/) != nil }, "times read hh:mm(:ss): \(times)")
        let lines = chart.matches(of: /<polyline class="series" data-segment-id="(\d+)" points="([^"]*)"/)
        #expect(Set(lines.map { Int($0.1)! }) == Set(segments.map(\.id)), "one line per live segment, no other")
        let moving = lines.filter { line in
            Set(line.2.split(separator: " ").map { $0.split(separator: ",").last ?? "" }).count > 1
        }
        #expect(!moving.isEmpty, "at least one line moves as its segment grew")
        let legend = dom.matches(
            of: /<span class="legend-entry" data-segment-id="(\d+)">.*?<span class="legend-name">([^<]*)</)
        let expected = segments.sorted { $0.id < $1.id }.map { "\($0.id) \(escaped($0.name))" }
        #expect(legend.map { "\($0.1) \($0.2)" } == expected, "the legend names the live segments, in id order")
    }

    private func texts(of className: String, in svg: String) -> [String] {
        svg.components(separatedBy: #"<text class="\#(className)""#).dropFirst().compactMap { tail in
            tail.split(separator: ">", maxSplits: 1).last?.split(separator: "<", maxSplits: 1).first.map(String.init)
        }
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

/// Whether the console's history has a sample of the board's current live sizes (non-empty ones when asked) within
/// 30 s.
private func historyHasCaughtUp(_ history: SegmentSizeHistory, _ status: PipelineStatusBoard, nonEmpty: Bool)
    -> Bool
{
    within(.seconds(30)) {
        let live = LiveSegment.list(status.read()).map { SegmentSizeSeries.Size(id: $0.id, size: $0.size) }
        return !(nonEmpty && live.isEmpty) && history.samples.last?.sizes == live
    } != nil
}
