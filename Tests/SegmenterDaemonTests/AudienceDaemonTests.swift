import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import SegmenterCore
import SegmenterKafka
import SegmenterStore
import Testing

@testable import SegmenterDaemon

/// The audiences the daemon tests configure: one by amounts, one by recency (moved by timers), one by segment
/// and another audience, and a computed trait.
func testAudiences() throws -> AudienceRules {
    try AudienceRules(
        audiences: [
            Audience(id: "big_spenders", name: "Big spenders", when: "orders_30d >= 2 and revenue_30d > 150"),
            Audience(id: "quiet", name: "Gone quiet", when: "days_since_last_event > 2"),
            Audience(id: "browsers", name: "Browsers",
                     when: "(segment == 1 or product_views_30d > 5) and not in_audience('big_spenders')"),
            Audience(id: "shoe_lovers", name: "Shoe lovers", when: "favourite_category == 'shoes'"),
        ],
        traits: [ComputedTrait(name: "favourite_category", kind: .mostFrequent, property: .text(.category))],
        features: .ecommerce())
}

private func stream(customers: Int, events: Int, seed: UInt64, in directory: URL)
    throws -> (path: String, messages: [(key: [UInt8]?, value: [UInt8])])
{
    let lines = SyntheticShoppers(customers: customers, events: events, seed: seed).map { $0.jsonLine() }
    let path = directory.appendingPathComponent("audience-stream-\(seed).ndjson").path
    try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: false, encoding: .utf8)
    return (path, lines.map { (nil, Array($0.utf8)) })
}

private func replayAudienceEvents(_ path: String, _ configuration: SegmenterConfiguration) throws -> [String] {
    var options = Replay.Options(input: path, segmentation: configuration.segmentation)
    options.audiences = configuration.audiences
    let replay = Replay(options: options)
    var lines: [String] = []
    replay.onAudienceChange = { lines.append($0.jsonLine()) }
    _ = try replay.run()
    return lines
}

/// The audience events a fake sink received, in production order, each once.
private func publishedAudienceEvents(_ sink: FakeOutboxSink) -> [String] {
    var seen: Set<UInt64> = []
    return sink.produced.filter { $0.topic == "audience-changes" && seen.insert($0.token).inserted }
        .map { String(decoding: $0.value, as: UTF8.self) }
}

private func audienceConfiguration(dataDirectory: String, batchSize: Int) throws -> SegmenterConfiguration {
    var c = try fakeConfiguration(dataDirectory: dataDirectory, batchSize: batchSize)
    c.audiences = try testAudiences()
    return c
}

@Suite("rule audiences in the daemon")
struct AudienceDaemonTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test("the core writes the audience schema's valid example byte for byte")
    func schemaExampleIsWhatTheCoreWrites() throws {
        let example = try String(
            contentsOf: Self.root.appendingPathComponent("schemas/examples/audience-event/valid/entered-by-event.json"),
            encoding: .utf8)
        let change = AudienceChange(
            customerID: "c-1042", audienceID: "big_spenders", audienceName: "Big spenders", entered: true, seq: 1,
            cause: .event, at: try #require(RFC3339.parse("2026-03-01T12:00:00Z")),
            features: [("orders_30d", 2), ("revenue_30d", 412.5), ("days_since_last_order", 0)],
            traits: [("favourite_category", .text("shoes")), ("max_order_90d", .number(229.9))])
        #expect(change.jsonLine() + "\n" == example)
    }

    @Test("a bad condition stops the start, naming the file, the audience, the position and what was expected")
    func badConditionFailsAtStart() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("segmenter.yaml").path
            try """
                traits:
                  - name: favourite_category
                    kind: most_frequent
                    property: category
                audiences:
                  - id: big_spenders
                    name: Big spenders
                    when: "orders_30d >= 2 and revenue_30d > 150"
                  - id: vip_lapsing
                    when: "segment == 'High-value buyers' and days_since_last_ordr > 45"
                  - id: fans
                    when: "favourite_category > 3"
                """.write(toFile: path, atomically: false, encoding: .utf8)
            let error = try #require(throws: ConfigurationError.self) {
                try SegmenterConfiguration.load(path: path, environment: [:])
            }
            #expect(error.source == path)
            #expect(error.problems.count == 2)
            #expect(error.problems[0].hasPrefix(
                "audiences[1] (vip_lapsing).when: at position 36: `days_since_last_ordr` is not a feature, a computed "
                    + "trait or `segment` (did you mean `days_since_last_order`?)"))
            #expect(error.problems[1].hasPrefix(
                "audiences[2] (fans).when: at position 22: `favourite_category` is a text trait"))
        }
    }

    @Test("replay and the daemon give the same audience events in the same order, whatever the batch size")
    func replayMatchesDaemon() throws {
        try withTemporaryDirectory { directory in
            let input = try stream(customers: 1_200, events: 16_000, seed: 11, in: directory)
            let expected = try replayAudienceEvents(
                input.path, try audienceConfiguration(dataDirectory: directory.path + "/x", batchSize: 1))
            #expect(expected.count > 1_000)
            for cause in ["event", "timer"] {
                #expect(expected.contains { $0.contains(#""cause":"\#(cause)""#) }, "some changes have cause \(cause)")
            }
            expectAlternation(expected)
            for (batchSize, poll) in [(7, 3), (2_000, 500)] {
                let data = directory.path + "/data-\(batchSize)"
                let sink = FakeOutboxSink()
                let run = try FakePipelineRun(
                    configuration: audienceConfiguration(dataDirectory: data, batchSize: batchSize), sink: sink,
                    partitions: [input.messages], maxPerPoll: poll)
                try run.finish(consumed: input.messages.count, dataDirectory: data)
                #expect(publishedAudienceEvents(sink) == expected, "batch \(batchSize): byte-identical events")
                let sizes = run.pipeline.status.read().audiences.sizes
                let contents = try memberships(data)
                #expect(sizes == contents, "the status board counts what the store holds")
            }
        }
    }

    @Test("a daemon stopped and restarted every few thousand events publishes what one uninterrupted run publishes")
    func restartsDoNotChangeTheEvents() throws {
        try withTemporaryDirectory { directory in
            let input = try stream(customers: 800, events: 12_000, seed: 12, in: directory)
            let expected = try replayAudienceEvents(
                input.path, try audienceConfiguration(dataDirectory: directory.path + "/x", batchSize: 1))
            let data = directory.path + "/data"
            let sink = FakeOutboxSink()
            for end in stride(from: 2_501, to: input.messages.count, by: 2_501) + [input.messages.count] {
                let run = try FakePipelineRun(
                    configuration: audienceConfiguration(dataDirectory: data, batchSize: 300), sink: sink,
                    partitions: [Array(input.messages.prefix(end))], maxPerPoll: 200)
                try run.finish(consumed: end, dataDirectory: data)
            }
            #expect(publishedAudienceEvents(sink) == expected)
        }
    }

    @Test("audiences added to an existing data directory are back-filled once: Entered events, then only changes")
    func backfillOnExistingData() throws {
        try withTemporaryDirectory { directory in
            let input = try stream(customers: 600, events: 6_000, seed: 13, in: directory)
            let data = directory.path + "/data"
            let sink = FakeOutboxSink()
            try runPipeline(withAudiences: false, input.messages, data, sink)
            #expect(publishedAudienceEvents(sink).isEmpty)

            let second = try runPipeline(withAudiences: true, input.messages, data, sink)
            let backfill = publishedAudienceEvents(sink)
            let members = try memberships(data)
            #expect(backfill.count == members.values.reduce(0, +), "one Entered event per member")
            #expect(backfill.allSatisfy {
                $0.contains(#""event":"Audience Entered""#) && $0.contains(#""cause":"backfill""#)
            })
            #expect(second.pipeline.status.read().audiences.sizes == members)
            let customers = try StoreReader(path: DataDirectory.databasePath(in: data)).customerCount()
            #expect(second.pipeline.status.read().audiences.backfillVisited == customers)

            try runPipeline(withAudiences: true, input.messages, data, sink)
            #expect(publishedAudienceEvents(sink) == backfill, "an unchanged configuration back-fills nothing")
        }
    }

    @Test("a back-fill interrupted after a committed page resumes after the customer it reached")
    func backfillResumes() throws {
        try withTemporaryDirectory { directory in
            let input = try stream(customers: 400, events: 4_000, seed: 15, in: directory)
            let data = directory.path + "/data"
            let sink = FakeOutboxSink()
            try runPipeline(withAudiences: false, input.messages, data, sink)
            // As a crash would leave it: the first pages committed, the cursor at the customer they reached.
            let walk = try StateStore(path: DataDirectory.databasePath(in: data)).customerWalk(after: nil, limit: 10_000)
            let reached = walk[walk.count / 2]
            let place = Dictionary(uniqueKeysWithValues: walk.map { ($0.id, $0) })
            do {
                let store = try StateStore(path: DataDirectory.databasePath(in: data))
                try store.setMetadata(
                    AudienceBackfill.cursorKey,
                    AudienceBackfill.fingerprint(try testAudiences()) + "\n\(reached.ordinal) " + reached.id)
            }
            try runPipeline(withAudiences: true, input.messages, data, sink)
            let customers = Set(publishedAudienceEvents(sink).compactMap { line in
                line.firstMatch(of: /"userId":"([^"]*)"/).map { String($0.1) }
            })
            #expect(!customers.isEmpty)
            let after = customers.compactMap { place[$0] }.allSatisfy {
                CustomerWalkKey(ordinal: reached.ordinal, customerID: reached.id)
                    < CustomerWalkKey(ordinal: $0.ordinal, customerID: $0.id)
            }
            #expect(after && customers.allSatisfy { place[$0] != nil }, "only customers after the cursor")
            let store = try StateStore(path: DataDirectory.databasePath(in: data))
            let done = try store.metadata(AudienceBackfill.fingerprintKey)
            #expect(done == AudienceBackfill.fingerprint(try testAudiences()), "the back-fill finished")
        }
    }

    @Test("GET /v1/audiences, POST /v1/audiences/preview and the customer's audiences, over a real store")
    func api() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("aud-http-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = try stream(customers: 300, events: 4_000, seed: 14, in: directory)
        let data = directory.path + "/data"
        var configuration = try audienceConfiguration(dataDirectory: data, batchSize: 500)
        configuration.http.port = 0
        let running = configuration
        let run = try await onThread {
            let run = try FakePipelineRun(
                configuration: running, sink: FakeOutboxSink(), partitions: [input.messages], maxPerPoll: 300)
            try run.finish(consumed: input.messages.count, dataDirectory: data)
            return run
        }
        let status = run.pipeline.status
        let members = try memberships(data)
        // Most frequent category does not age, so a preview now finds exactly the members.
        let largest = "shoe_lovers"
        #expect(members[largest, default: 0] > 0)
        let member = try #require(try firstMember(of: largest, data))
        let condition = configuration.audiences.audiences.first { $0.id == largest }!.when
        let customers = Int(try StoreReader(path: DataDirectory.databasePath(in: data)).customerCount())
        let app = HTTPServer.make(
            configuration: configuration, status: status, metrics: SegmenterMetrics(status: status),
            queries: QueryService(dataDirectory: data, configuration: configuration.segmentation,
                                  audiences: configuration.audiences),
            logger: Logger(label: "test"))
        try await app.test(.live) { client in
            try await client.execute(uri: "/v1/audiences", method: .get) { response in
                #expect(response.status == .ok)
                let audiences = try json(response)["audiences"] as? [[String: Any]] ?? []
                #expect(audiences.map { $0["id"] as? String } == ["big_spenders", "quiet", "browsers", "shoe_lovers"])
                #expect(audiences.first?["condition"] as? String == "orders_30d >= 2 and revenue_30d > 150")
                #expect(audiences.first?["size"] as? Int == Int(members["big_spenders"] ?? -1))
            }
            let body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: ["when": condition]))
            try await client.execute(uri: "/v1/audiences/preview", method: .post, body: body) { response in
                #expect(response.status == .ok)
                let answer = try json(response)
                #expect(answer["size"] as? Int == Int(members[largest] ?? -1),
                        "a preview of a configured condition finds its members")
                #expect(answer["customers"] as? Int == customers)
                #expect((answer["sample"] as? [String])?.contains(member) == true)
            }
            let bad = ByteBuffer(string: #"{"when": "orders_30d >= "}"#)
            try await client.execute(uri: "/v1/audiences/preview", method: .post, body: bad) { response in
                #expect(response.status == .badRequest)
                let answer = try json(response)
                #expect(answer["position"] as? Int == 15)
                #expect((answer["error"] as? String)?.contains("expected a number") == true)
            }
            try await client.execute(uri: "/v1/customers/\(member)", method: .get) { response in
                let audiences = try json(response)["audiences"] as? [[String: Any]] ?? []
                #expect(audiences.contains { $0["id"] as? String == largest })
                let traits = try json(response)["traits"] as? [String: Any] ?? [:]
                #expect(traits["favourite_category"] is String)
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                let text = String(buffer: response.body)
                #expect(text.contains(#"segmenter_audience_customers{audience="big_spenders"}"#))
                #expect(text.contains(#"segmenter_audience_changes_total{audience="shoe_lovers",event="entered"}"#))
            }
        }
    }

    @Test("with http.token set, a preview and the console need no token (they only read); model commands still do")
    func previewNeedsNoToken() async throws {
        try await HTTPAccessTests().withServer(token: "s3cret") { client in
            let body = ByteBuffer(string: #"{"when": "orders_30d >= 1 or segment == 1"}"#)
            try await client.execute(uri: "/v1/audiences/preview", method: .post, body: body) { response in
                #expect(response.status == .ok)
                let customers = try json(response)["customers"] as? Int ?? 0
                #expect(customers > 0)
            }
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("<title>Segmenter console</title>"))
            }
            try await client.execute(uri: "/v1/model/freeze", method: .post) { #expect($0.status == .unauthorized) }
        }
    }

    /// Per (customer, audience): seq 1, 2, 3, … with Entered on odd and Exited on even numbers.
    private func expectAlternation(_ lines: [String]) {
        var last: [String: Int] = [:]
        var broken = 0
        for line in lines {
            guard let data = line.data(using: .utf8),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let id = object["messageId"] as? String, let event = object["event"] as? String,
                  let seq = Int(id.split(separator: ":").last ?? "")
            else {
                broken += 1
                continue
            }
            let key = String(id.dropLast(String(seq).count + 1))
            if seq != last[key, default: 0] + 1 || (event == "Audience Entered") != (seq % 2 == 1) { broken += 1 }
            last[key] = seq
        }
        #expect(broken == 0)
    }
}

/// Runs a pipeline over `messages` to their end, with the test audiences or none, batches of 500.
@discardableResult
private func runPipeline(
    withAudiences: Bool, _ messages: [(key: [UInt8]?, value: [UInt8])], _ data: String, _ sink: FakeOutboxSink
) throws -> FakePipelineRun {
    let configuration = withAudiences
        ? try audienceConfiguration(dataDirectory: data, batchSize: 500)
        : try fakeConfiguration(dataDirectory: data, batchSize: 500)
    let run = try FakePipelineRun(configuration: configuration, sink: sink, partitions: [messages], maxPerPoll: 300)
    try run.finish(consumed: messages.count, dataDirectory: data)
    return run
}

/// Runs blocking work (waiting for a pipeline, a child process) on a thread of its own, so that an async test does
/// not hold one of the few threads of Swift's cooperative pool, which the HTTP server it talks to needs too.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// Members per audience id, as the store holds them.
func memberships(_ dataDirectory: String) throws -> [String: Int64] {
    let reader = try StoreReader(path: DataDirectory.databasePath(in: dataDirectory))
    var sizes: [String: Int64] = ["big_spenders": 0, "quiet": 0, "browsers": 0, "shoe_lovers": 0]
    try reader.forEachCustomer { customer in
        for id in try CustomerAudiences(encoded: customer.audiences).audienceIDs { sizes[id, default: 0] += 1 }
    }
    return sizes
}

private func firstMember(of audience: String, _ dataDirectory: String) throws -> String? {
    let reader = try StoreReader(path: DataDirectory.databasePath(in: dataDirectory))
    var found: String?
    try reader.forEachCustomer { customer in
        if found == nil, try CustomerAudiences(encoded: customer.audiences).audienceIDs.contains(audience) {
            found = customer.customerID
        }
    }
    return found
}

@Suite("rule audiences across kill -9", .serialized, .timeLimit(.minutes(6)))
struct AudienceCrashTests {
    @Test("killed with SIGKILL three times, the daemon publishes exactly replay's audience events, each once")
    func killNineKeepsAudienceEventsExact() throws {
        try withTemporaryDirectory { directory in
            // One partition: the daemon is then event-for-event what replay is, so replay's events are the truth.
            let broker = try EmbeddedBroker(brokers: 1, topics: [
                "events": 1, "segmenter-events-changelog": 1, "segmenter-events-model": 1,
                "segment-changes": 4, "segmenter-dlq": 1, "audience-changes": 4,
            ])
            let (messages, expectedCounts) = generatedMessages(customers: 1_500, events: 60_000, seed: 17)
            try produce(messages, broker: broker)
            let input = directory.appendingPathComponent("events.ndjson").path
            try (messages.map { String(decoding: $0.value, as: UTF8.self) }.joined(separator: "\n") + "\n")
                .write(toFile: input, atomically: false, encoding: .utf8)
            let data = directory.appendingPathComponent("data").path
            let config = try writeConfig(broker: broker, dataDirectory: data, batchSize: 300, in: directory)
            // The audiences of testAudiences(), written as the configuration file says them.
            let rules = try testAudiences()
            let audiences = "\ntraits:\n  - {name: favourite_category, kind: most_frequent, property: category}\n"
                + "audiences:\n" + rules.audiences.map {
                    "  - id: \($0.id)\n    name: \($0.name)\n    when: \"\($0.when)\"\n"
                }.joined()
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: config))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(audiences.utf8))
            try handle.close()

            let configuration = try SegmenterConfiguration.load(path: config, environment: [:])
            #expect(configuration.audiences.audiences == rules.audiences)
            var options = Replay.Options(input: input, segmentation: configuration.segmentation)
            options.audiences = configuration.audiences
            let replay = Replay(options: options)
            var expected: [String: String] = [:]
            replay.onAudienceChange = { expected[$0.messageID] = $0.jsonLine() }
            _ = try replay.run()
            #expect(expected.count > 5_000)
            #expect(expected.values.contains { $0.contains(#""cause":"timer""#) })

            var rng = SplitMix64(seed: 5)
            var consumedAtKill: [Int64] = []
            for round in 0..<3 {
                let daemon = try DaemonProcess(configFile: config, logDirectory: directory, name: "aud-kill-\(round)")
                let before = storedConsumed(data)
                let end = ContinuousClock.now + .seconds(60)
                while ContinuousClock.now < end, storedConsumed(data) <= before { Thread.sleep(forTimeInterval: 0.1) }
                // Soon after the first committed batch: the whole topic takes only a few seconds to consume.
                Thread.sleep(forTimeInterval: Double(10 + rng.next() % 90) / 1_000)
                daemon.kill(SIGKILL)
                #expect(daemon.wait(.seconds(10)) != nil)
                consumedAtKill.append(storedConsumed(data))
            }
            #expect(consumedAtKill.last ?? 0 < Int64(messages.count), "killed while consuming: \(consumedAtKill)")
            let daemon = try DaemonProcess(configFile: config, logDirectory: directory, name: "aud-final")
            #expect(daemon.waitUntilStarted(), "started: \(daemon.output.suffix(500))")
            #expect(try waitUntilConsumed(messages.count, dataDirectories: [data], within: .seconds(180)))
            let drained = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < drained, (try? StoreContents(dataDirectory: data).outbox) ?? 1 > 0 {
                Thread.sleep(forTimeInterval: 0.2)
            }
            daemon.kill(SIGTERM)
            #expect(daemon.wait(.seconds(15)) == 0, "clean exit: \(daemon.output.suffix(500))")
            #expect(try StoreContents(dataDirectory: data).counts == expectedCounts)

            let published = try readAll("audience-changes", from: broker, atLeast: expected.count, within: .seconds(90))
            var seen: [String: String] = [:]
            var conflicting = 0
            for message in published {
                let line = String(decoding: message.value, as: UTF8.self)
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      let id = object["messageId"] as? String
                else { continue }
                if let earlier = seen[id], earlier != line { conflicting += 1 }
                seen[id] = line
            }
            #expect(conflicting == 0, "a re-sent event is byte-identical to the first")
            #expect(seen.count == expected.count, "every audience event published, none invented: \(consumedAtKill)")
            #expect(seen == expected, "the daemon's audience events across kills are replay's, byte for byte")
        }
    }
}
