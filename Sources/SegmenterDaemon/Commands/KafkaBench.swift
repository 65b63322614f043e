import Foundation
import SegmenterKafka

/// Throughput probes for the Kafka wrapper (`segmenter kafka-bench`), driven by `scripts/bench-kafka`, which
/// compares them with kcat in the same run. Each returns one JSON object as text.
public enum KafkaBench {
    /// Consumes `count` messages of `topic` from the beginning with a fresh consumer group.
    public static func consume(brokers: String, topic: String, count: Int, timeout: Int) throws -> String {
        let configuration = KafkaConfiguration(
            bootstrapServers: brokers, groupID: "kafka-bench-\(UUID().uuidString)",
            clientID: "segmenter-kafka-bench"
        )
        let consumer = try KafkaConsumer(configuration: configuration, rebalanceListener: nil)
        let clock = ContinuousClock()
        let started = clock.now
        let deadline = started + .seconds(timeout)
        try consumer.subscribe(topics: [topic])
        var firstAt: ContinuousClock.Instant?
        var received = 0
        var bytes = 0
        while received < count, clock.now < deadline {
            received += try consumer.poll(max: min(count - received, 10_000), timeout: .milliseconds(100)) {
                message in
                bytes += message.value.count
            }
            if firstAt == nil, received > 0 { firstAt = clock.now }
        }
        let finished = clock.now
        try consumer.close()
        guard received == count else {
            throw SegmenterError(
                .timeout, "read only \(received) of \(count) messages from \(topic) within \(timeout) s")
        }
        return json(
            mode: "consume", messages: received, bytes: bytes, total: finished - started,
            afterFirst: finished - (firstAt ?? started))
    }

    /// Produces `count` messages (generated values of `size` bytes, or the lines of `file`, cycled) and waits for
    /// every delivery report.
    public static func produce(
        brokers: String, topic: String, count: Int, size: Int, file: String?, compression: String
    ) throws -> String {
        // One buffer and line ranges: the wrapper produces straight from it, as kcat does from its file.
        let buffer =
            try file.map { try Data(contentsOf: URL(fileURLWithPath: $0)) } ?? Self.generatedValue(size: size)
        let lines = file == nil ? [0..<buffer.count] : Self.lineRanges(buffer)
        guard !lines.isEmpty else { throw SegmenterError(.invalidRequest, "--file \(file ?? "") has no lines") }
        let configuration = KafkaConfiguration(
            bootstrapServers: brokers, clientID: "segmenter-kafka-bench",
            properties: ["compression.type": compression]
        )
        let producer = try KafkaProducer(configuration: configuration)
        let clock = ContinuousClock()
        let started = clock.now
        var delivered = 0
        var failures: [KafkaError] = []
        func gather(_ reports: [DeliveryReport]) {
            for report in reports {
                if let error = report.error { failures.append(error) } else { delivered += 1 }
            }
        }
        var bytes = 0
        try buffer.withUnsafeBytes { (all: UnsafeRawBufferPointer) in
            for index in 0..<count {
                let value = UnsafeRawBufferPointer(rebasing: all[lines[index % lines.count]])
                bytes += value.count
                try producer.produce(topic: topic, key: nil, value: value, token: UInt64(index))
                if index % 10_000 == 0 { gather(producer.pollDeliveries(timeout: .zero)) }
            }
        }
        try producer.flush(timeout: .seconds(120))
        gather(producer.pollDeliveries(timeout: .zero))
        let finished = clock.now
        guard delivered == count else {
            let first = failures.first.map { "\($0)" } ?? "none"
            throw SegmenterError(.timeout, "\(delivered) of \(count) delivered; first failure: \(first)")
        }
        return json(mode: "produce", messages: count, bytes: bytes, total: finished - started, afterFirst: nil)
    }

    /// The non-empty lines of `data`, without their newlines.
    static func lineRanges(_ data: Data) -> [Range<Int>] {
        data.withUnsafeBytes { bytes in
            var ranges: [Range<Int>] = []
            var start = 0
            for index in 0...bytes.count where index == bytes.count || bytes[index] == UInt8(ascii: "\n") {
                if index > start { ranges.append(start..<index) }
                start = index + 1
            }
            return ranges
        }
    }

    /// JSON-like text of `size` bytes, about as compressible as a clickstream event.
    static func generatedValue(size: Int) -> Data {
        let base =
            #"{"event_id":"e-1","customer_id":"c-1042","type":"page_view","timestamp":"2026-03-01T12:00:00Z"}"#
        return Data(String(repeating: base, count: size / base.utf8.count + 1).utf8.prefix(size))
    }

    private static func json(mode: String, messages: Int, bytes: Int, total: Duration, afterFirst: Duration?)
        -> String
    {
        func seconds(_ duration: Duration) -> Double {
            Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        }
        var fields = [
            "\"mode\":\"\(mode)\"", "\"messages\":\(messages)", "\"bytes\":\(bytes)",
            "\"seconds\":\(seconds(total))", "\"messages_per_s\":\(Int(Double(messages) / seconds(total)))",
        ]
        if let afterFirst {
            fields.append("\"seconds_after_first\":\(seconds(afterFirst))")
            fields.append("\"messages_per_s_after_first\":\(Int(Double(messages) / seconds(afterFirst)))")
        }
        return "{" + fields.joined(separator: ",") + "}"
    }
}
