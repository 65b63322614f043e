import Foundation
import SegmenterKafka

/// A group id no other test uses, so every consumer starts without committed offsets.
func freshGroupID() -> String { "test-\(UUID().uuidString)" }

/// Test consumers: the embedded broker's group timings (DESIGN §8) and no noise from old offsets.
func makeConsumer(
    _ broker: EmbeddedBroker, group: String = freshGroupID(), listener: (any KafkaRebalanceListener)? = nil
) throws -> KafkaConsumer {
    let configuration = KafkaConfiguration(
        bootstrapServers: broker.bootstrapServers, groupID: group,
        properties: ["session.timeout.ms": "6000", "heartbeat.interval.ms": "500"]
    )
    return try KafkaConsumer(configuration: configuration, rebalanceListener: listener)
}

func makeProducer(_ broker: EmbeddedBroker) throws -> KafkaProducer {
    try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: broker.bootstrapServers))
}

/// Polls until `count` messages arrived or `deadline` passed (then returns what it has).
func consume(_ consumer: KafkaConsumer, count: Int, within deadline: Duration = .seconds(20)) throws -> [KafkaMessage] {
    let end = ContinuousClock.now + deadline
    var messages: [KafkaMessage] = []
    while messages.count < count, ContinuousClock.now < end {
        messages += try consumer.poll(max: count - messages.count, timeout: .milliseconds(200))
    }
    return messages
}

/// Flushes and gathers delivery reports until `count` arrived or `deadline` passed.
func deliveries(_ producer: KafkaProducer, count: Int, within deadline: Duration = .seconds(20)) throws
    -> [DeliveryReport]
{
    try producer.flush(timeout: deadline)
    let end = ContinuousClock.now + deadline
    var reports: [DeliveryReport] = []
    while reports.count < count, ContinuousClock.now < end {
        reports += producer.pollDeliveries(timeout: .milliseconds(100))
    }
    return reports
}

/// Records what a group member is told and what it processed; commits its progress when partitions
/// are revoked, as the daemon does.
final class RecordingOwner: KafkaRebalanceListener {
    weak var consumer: KafkaConsumer?
    var startOffsets: [TopicPartition: Int64] = [:]
    var commitOnRevoke = true
    private(set) var revoked: [Set<TopicPartition>] = []
    private(set) var assigned: [Set<TopicPartition>] = []
    private(set) var commitErrors: [KafkaError] = []
    /// Next offset to read per partition, from what was processed.
    private(set) var progress: [TopicPartition: Int64] = [:]
    private(set) var processed: [TopicPartition: [Int64]] = [:]

    /// The partitions this member holds according to what it was told.
    var owned: Set<TopicPartition> {
        var owned: Set<TopicPartition> = []
        for (index, partitions) in assigned.enumerated() {
            owned.formUnion(partitions)
            owned.subtract(revokedAfter[index])
        }
        return owned
    }
    /// Revocations that followed each assignment (cooperative rebalances revoke only some).
    private var revokedAfter: [Set<TopicPartition>] = []

    func process(_ message: KafkaMessageView) {
        let partition = TopicPartition(topic: message.topic, partition: message.partition)
        processed[partition, default: []].append(message.offset)
        progress[partition] = message.offset + 1
    }

    func partitionsRevoked(_ partitions: [TopicPartition]) {
        revoked.append(Set(partitions))
        if !revokedAfter.isEmpty { revokedAfter[revokedAfter.count - 1].formUnion(partitions) }
        guard commitOnRevoke, let consumer else { return }
        do {
            try consumer.commit(progress.filter { partitions.contains($0.key) })
        } catch {
            commitErrors.append(error)
        }
    }

    func partitionsAssigned(_ partitions: [TopicPartition]) -> [TopicPartition: Int64] {
        assigned.append(Set(partitions))
        revokedAfter.append([])
        return startOffsets.filter { partitions.contains($0.key) }
    }
}

/// Runs a child process with a deadline; it is terminated (then killed) if it overruns.
/// - Returns: exit status and standard output.
func run(_ arguments: [String], input: Data? = nil, within deadline: Duration = .seconds(20)) throws -> (Int32, String)
{
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let output = FileManager.default.temporaryDirectory.appendingPathComponent("kafka-test-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: output.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: output) }
    let outputHandle = try FileHandle(forWritingTo: output)
    defer { try? outputHandle.close() }
    process.standardOutput = outputHandle
    let stdin = Pipe()
    process.standardInput = stdin
    try process.run()
    if let input { stdin.fileHandleForWriting.write(input) }
    try stdin.fileHandleForWriting.close()
    let end = ContinuousClock.now + deadline
    while process.isRunning, ContinuousClock.now < end { Thread.sleep(forTimeInterval: 0.02) }
    if process.isRunning {
        process.terminate()
        Thread.sleep(forTimeInterval: 0.5)
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        throw KafkaError(code: .timeout, message: "\(arguments.joined(separator: " ")) overran \(deadline)")
    }
    process.waitUntilExit()
    return (process.terminationStatus, try String(contentsOf: output, encoding: .utf8))
}
