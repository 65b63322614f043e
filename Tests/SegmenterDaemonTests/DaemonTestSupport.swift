import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import SegmenterCore
import SegmenterKafka
import SegmenterStore
import Testing

@testable import SegmenterDaemon

/// The embedded broker's group timings (DESIGN §8): without them a second member or a restarted one stalls.
let fastGroupProperties = ["session.timeout.ms": "6000", "heartbeat.interval.ms": "500"]

/// A broker on 127.0.0.1 with the daemon's topics, and the changelog and model topics of each consumer group in
/// `groups` (the embedded broker has no CreateTopics, and would auto-create them with its default partition count).
func makeBroker(partitions: Int32 = 4, groups: [String] = ["segmenter"]) throws -> EmbeddedBroker {
    // segment-changes gets as many partitions as events: the mock cluster keeps only ~5 MB per partition.
    var topics: [String: Int32] = ["events": partitions, "segment-changes": partitions, "segmenter-dlq": 1]
    for group in groups {
        topics[Changelog.defaultTopic(groupID: group, inputTopic: "events")] = partitions
        topics[GroupModel.defaultTopic(groupID: group, inputTopic: "events")] = 1
    }
    return try EmbeddedBroker(brokers: 1, topics: topics)
}

/// Produces (key, value) messages to `topic` and waits until every one is delivered.
func produce(_ messages: [(key: [UInt8]?, value: [UInt8])], to topic: String = "events", broker: EmbeddedBroker)
    throws
{
    let producer = try KafkaProducer(configuration: KafkaConfiguration(
        bootstrapServers: broker.bootstrapServers, properties: ["compression.codec": "lz4", "linger.ms": "20"]))
    for (i, message) in messages.enumerated() {
        try producer.produce(topic: topic, key: message.key, value: message.value, token: UInt64(i))
    }
    try producer.flush(timeout: .seconds(60))
    var delivered = 0
    var failed = 0
    let end = ContinuousClock.now + .seconds(30)
    while delivered + failed < messages.count, ContinuousClock.now < end {
        for report in producer.pollDeliveries(timeout: .milliseconds(50)) {
            if report.error == nil { delivered += 1 } else { failed += 1 }
        }
    }
    #expect(delivered == messages.count, "all test messages delivered (\(failed) failed)")
}

/// Generated events as Kafka messages keyed by customer id, and the number of valid events per customer.
func generatedMessages(customers: Int, events: Int, seed: UInt64) -> ([(key: [UInt8]?, value: [UInt8])], [String: Int64]) {
    var messages: [(key: [UInt8]?, value: [UInt8])] = []
    var counts: [String: Int64] = [:]
    for event in SyntheticShoppers(customers: customers, events: events, seed: seed) {
        messages.append((Array(event.customerID.utf8), Array(event.jsonLine().utf8)))
        counts[event.customerID, default: 0] += 1
    }
    return (messages, counts)
}

/// Customers of the generated stream whose last event falls in its final 30 minutes of event time: their first
/// session may not have ended when the events run out, so they may rightly have no segment yet
/// (`first_segment: session_end`).
func customersStillInTheirFirstSession(customers: Int, events: Int, seed: UInt64) -> Int {
    var last: [String: Int64] = [:]
    for event in SyntheticShoppers(customers: customers, events: events, seed: seed) {
        last[event.customerID] = max(last[event.customerID] ?? .min, event.timestamp)
    }
    let end = last.values.max() ?? 0
    return last.values.filter { $0 > end - 30 * 60_000 }.count
}

/// Reads every message of `topic` from the beginning (fresh group) until `count` arrived or the deadline passed.
func readAll(_ topic: String, from broker: EmbeddedBroker, atLeast count: Int, within deadline: Duration = .seconds(60))
    throws -> [KafkaMessage]
{
    let consumer = try KafkaConsumer(
        configuration: KafkaConfiguration(bootstrapServers: broker.bootstrapServers,
                                          groupID: "reader-\(UUID().uuidString)", properties: fastGroupProperties),
        rebalanceListener: nil)
    try consumer.subscribe(topics: [topic])
    var messages: [KafkaMessage] = []
    let end = ContinuousClock.now + deadline
    var quietSince = ContinuousClock.now
    while ContinuousClock.now < end {
        let batch = try consumer.poll(max: 10_000, timeout: .milliseconds(200))
        messages += batch
        if !batch.isEmpty { quietSince = .now }
        if messages.count >= count, ContinuousClock.now - quietSince > .seconds(2) { break }
    }
    try consumer.close()
    return messages
}

/// A configuration for tests: the broker, a data directory, fast group timings, loopback HTTP off by default.
func testConfiguration(broker: EmbeddedBroker, dataDirectory: String, group: String = "segmenter",
                       initSample: Int = 500) throws -> SegmenterConfiguration {
    var c = try SegmenterConfiguration.load(path: nil, environment: [:])
    c.kafka.bootstrapServers = broker.bootstrapServers
    c.kafka.groupID = group
    c.kafka.properties = fastGroupProperties
    c.store.dataDirectory = dataDirectory
    c.store.batchSize = 2_000
    c.http.enabled = false
    c.segmentation.kmeans.initSample = initSample
    return c
}

/// Runs a pipeline on its own thread until `stop()`; `finish()` stops it and rethrows its error.
final class RunningPipeline: @unchecked Sendable {
    let pipeline: Pipeline
    private let done = DispatchSemaphore(value: 0)
    private var error: Error?

    init(_ configuration: SegmenterConfiguration) throws {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        pipeline = try Pipeline(configuration: configuration, logger: logger)
        Thread { [self] in
            do { try pipeline.run() } catch { self.error = error }
            done.signal()
        }.start()
    }

    func finish() throws {
        pipeline.stop()
        #expect(done.wait(timeout: .now() + 30) == .success, "the pipeline stops within 30 s")
        if let error { throw error }
    }
}

/// What a data directory holds, read through a read-only connection.
struct StoreContents {
    var counts: [String: Int64] = [:]
    /// Each customer's input partition and last transition number.
    var partitions: [String: Int32] = [:]
    var sequences: [String: Int64] = [:]
    var offsets: [TopicPartitionKey: Int64] = [:]
    var transitions: [String: [Transition]] = [:]
    var outbox: Int64 = 0
    var withoutSegment = 0

    init(dataDirectory: String) throws {
        let reader = try StoreReader(path: dataDirectory + "/" + DataDirectory.databaseFileName)
        try reader.forEachCustomer { customer in
            counts[customer.customerID] = customer.eventCount
            partitions[customer.customerID] = customer.partition
            sequences[customer.customerID] = customer.transitionSeq
            if customer.segmentID == nil { withoutSegment += 1 }
        }
        offsets = try reader.offsets()
        outbox = try reader.outboxCount()
        for id in counts.keys {
            transitions[id] = try reader.transitions(customerID: id, limit: 1_000_000).reversed()
        }
    }

    var consumed: Int64 { offsets.filter { $0.key.topic == "events" }.values.reduce(0, +) }
}

/// The sum of stored `events` offsets: how many messages the data directory has consumed (cheap to read).
func storedConsumed(_ dataDirectory: String) -> Int64 {
    let path = dataDirectory + "/" + DataDirectory.databaseFileName
    guard FileManager.default.fileExists(atPath: path), let offsets = try? StoreReader(path: path).offsets() else {
        return 0
    }
    return offsets.filter { $0.key.topic == "events" }.values.reduce(0, +)
}

/// Waits until the stored offsets of `events` add up to `total` (every message consumed and committed).
func waitUntilConsumed(_ total: Int, dataDirectories: [String], within deadline: Duration = .seconds(120)) throws
    -> Bool
{
    let end = ContinuousClock.now + deadline
    while ContinuousClock.now < end {
        var sum: Int64 = 0
        for directory in dataDirectories {
            let path = directory + "/" + DataDirectory.databaseFileName
            guard FileManager.default.fileExists(atPath: path),
                  let offsets = try? StoreReader(path: path).offsets() else { continue }
            sum += offsets.filter { $0.key.topic == "events" }.values.reduce(0, +)
        }
        if sum >= Int64(total) { return true }
        Thread.sleep(forTimeInterval: 0.2)
    }
    return false
}

/// The `segmenter` executable built beside the test bundle.
var segmenterExecutable: URL {
    URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("segmenter")
}

/// Runs `executable` to its end with `arguments` and exactly `environment`; returns its status and its standard
/// output and error together.
func runToEnd(_ executable: URL, _ arguments: [String], environment: [String: String]) throws
    -> (status: Int32, output: String)
{
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.environment = environment
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// `segmenter run` as a child process; killed in `deinit` if still running.
final class DaemonProcess {
    let process = Process()
    let log: URL

    init(configFile: String, logDirectory: URL, name: String) throws {
        process.executableURL = segmenterExecutable
        process.arguments = ["run", "--config", configFile, "--log-level", "info"]
        log = logDirectory.appendingPathComponent("\(name)-\(UUID().uuidString.prefix(6)).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    func kill(_ signal: Int32) {
        if process.isRunning { Foundation.kill(process.processIdentifier, signal) }
    }

    /// Waits for exit up to `timeout`; returns the exit status, or nil if still running.
    func wait(_ timeout: Duration) -> Int32? {
        let end = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < end { Thread.sleep(forTimeInterval: 0.05) }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// Waits until the daemon logs that it consumes (its signal handlers are installed by then).
    func waitUntilStarted(within timeout: Duration = .seconds(30)) -> Bool {
        let end = ContinuousClock.now + timeout
        while ContinuousClock.now < end, process.isRunning {
            if output.contains("consuming") { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }

    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    deinit {
        if process.isRunning {
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// Writes a YAML configuration for a child daemon.
func writeConfig(broker: EmbeddedBroker, dataDirectory: String, group: String = "segmenter", batchSize: Int = 2_000,
                 httpPort: Int? = nil, in directory: URL) throws -> String
{
    let http = httpPort.map { "listen: 127.0.0.1:\($0)" } ?? "enabled: false"
    let path = directory.appendingPathComponent("config-\(UUID().uuidString.prefix(6)).yaml").path
    let yaml = """
        kafka:
          bootstrap_servers: \(broker.bootstrapServers)
          group_id: \(group)
          properties:
            session.timeout.ms: "6000"
            heartbeat.interval.ms: "500"
        store:
          data_dir: \(dataDirectory)
          batch_size: \(batchSize)
          batch_interval_ms: 50
        model:
          init_sample: 500
        http:
          \(http)
        """
    try yaml.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// Checks that every transition `stored` holds was published to `segment-changes` at least once, and nothing else.
func expectEveryTransitionPublished(_ stored: StoreContents, broker: EmbeddedBroker) throws {
    let transitions = Set(stored.transitions.flatMap { id, list in list.map { "\(id):\($0.seq)" } })
    let published = try readAll("segment-changes", from: broker, atLeast: transitions.count, within: .seconds(90))
    let publishedIDs = Set(try published.map { message -> String in
        let json = try JSONSerialization.jsonObject(with: Data(message.value)) as? [String: Any]
        return json?["event_id"] as? String ?? ""
    })
    let missing = transitions.subtracting(publishedIDs).count
    #expect(transitions.isSubset(of: publishedIDs),
            "every transition was published at least once; missing \(missing) of \(transitions.count)")
    #expect(publishedIDs.isSubset(of: transitions), "nothing published that the store does not hold")
}

/// A daemon configuration file on `broker` and `data`, serving HTTP on loopback `port` behind `token`.
func writeTokenDaemonConfiguration(
    to path: String, broker: EmbeddedBroker, dataDirectory data: String, port: Int, token: String
) throws {
    try """
        kafka:
          bootstrap_servers: \(broker.bootstrapServers)
          properties:
            session.timeout.ms: "6000"
            heartbeat.interval.ms: "500"
        store:
          data_dir: \(data)
        model:
          init_sample: 200
        http:
          listen: 127.0.0.1:\(port)
          token: \(token)
        """.write(toFile: path, atomically: true, encoding: .utf8)
}

/// A request to a daemon's HTTP port (with `token` as the bearer token): (status, body), or nil when nothing
/// answered within `timeout` seconds.
func httpRequest(_ method: String = "GET", _ path: String, port: Int, token: String? = nil, timeout: Double = 5)
    -> (Int, String)?
{
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var answer: (Int, String)?
    var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
    request.httpMethod = method
    request.timeoutInterval = timeout
    if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
    URLSession.shared.dataTask(with: request) { data, response, _ in
        if let response = response as? HTTPURLResponse {
            answer = (response.statusCode, String(decoding: data ?? Data(), as: UTF8.self))
        }
        done.signal()
    }.resume()
    _ = done.wait(timeout: .now() + timeout + 1)
    return answer
}

/// Polls `condition` every 200 ms until it holds or `timeout` passed; returns how long it took, or nil.
func within(_ timeout: Duration, _ condition: () -> Bool) -> Duration? {
    let start = ContinuousClock.now
    while ContinuousClock.now - start < timeout {
        if condition() { return ContinuousClock.now - start }
        Thread.sleep(forTimeInterval: 0.2)
    }
    return nil
}
