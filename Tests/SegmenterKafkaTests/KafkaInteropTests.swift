import Foundation
import SegmenterKafka
import Testing

/// Interoperability with a client no one here wrote: kcat, run as a child process against the
/// embedded broker.
@Suite("Kafka interop with kcat")
struct KafkaInteropTests {
    @Test("messages produced by kcat -P are consumed with their keys, values and headers")
    func kcatProducesWrapperConsumes() throws {
        let broker = try EmbeddedBroker(topics: ["from-kcat": 2])
        let lines = (0..<50).map { "c-\($0):{\"n\":\($0)}" }
        let (status, _) = try run(
            ["kcat", "-P", "-b", broker.bootstrapServers, "-t", "from-kcat", "-K", ":", "-H", "origin=kcat"],
            input: Data((lines.joined(separator: "\n") + "\n").utf8)
        )
        #expect(status == 0)
        let consumer = try makeConsumer(broker)
        try consumer.subscribe(topics: ["from-kcat"])
        let messages = try consume(consumer, count: 50)
        let received = Set(
            messages.map {
                String(decoding: $0.key ?? [], as: UTF8.self) + ":" + String(decoding: $0.value, as: UTF8.self)
            })
        #expect(received == Set(lines))
        #expect(messages.allSatisfy { $0.headers == [KafkaHeader(key: "origin", value: Array("kcat".utf8))] })
    }

    @Test("messages produced by the wrapper are read by kcat -C with their keys, values and headers")
    func wrapperProducesKcatConsumes() throws {
        let broker = try EmbeddedBroker(topics: ["to-kcat": 2])
        let producer = try makeProducer(broker)
        for index in 0..<50 {
            try producer.produce(
                topic: "to-kcat", key: Array("c-\(index)".utf8), value: Array("v\(index)".utf8),
                headers: [KafkaHeader(key: "origin", value: Array("swift".utf8))], token: UInt64(index))
        }
        #expect(try deliveries(producer, count: 50).count == 50)
        let (status, output) = try run([
            "kcat", "-C", "-b", broker.bootstrapServers, "-t", "to-kcat", "-o", "beginning", "-e", "-q",
            "-f", "%k=%s|%h\\n",
        ])
        #expect(status == 0)
        let expected = Set((0..<50).map { "c-\($0)=v\($0)|origin=swift" })
        #expect(Set(output.split(separator: "\n").map(String.init)) == expected)
    }
}
