import Testing
@testable import SegmenterKafka

@Test("the Kafka module links") func KafkaLinks() { #expect(Bool(true)) }
