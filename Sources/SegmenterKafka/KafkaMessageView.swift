import CRdKafka

/// A consumed message, borrowed from librdkafka for the duration of one `KafkaConsumer.poll` closure
/// call: the zero-copy hot path. `key`, `value` and header buffers point into librdkafka's memory and
/// are valid only inside that call; copy what must outlive it (or use `KafkaMessage(_:)`).
public struct KafkaMessageView {
    private let message: UnsafeMutablePointer<rd_kafka_message_t>

    /// The topic name (shared, not allocated per message).
    public let topic: String

    init(_ message: UnsafeMutablePointer<rd_kafka_message_t>, topic: String) {
        self.message = message
        self.topic = topic
    }

    /// The partition the message came from.
    public var partition: Int32 { message.pointee.partition }

    /// The message's offset in its partition; the next offset to read after it is `offset + 1`.
    public var offset: Int64 { message.pointee.offset }

    /// The key bytes, or `nil` when the message has no key. Valid only inside the poll closure.
    public var key: UnsafeRawBufferPointer? {
        guard let key = message.pointee.key else { return nil }
        return UnsafeRawBufferPointer(start: key, count: message.pointee.key_len)
    }

    /// The value bytes; empty for a null value (tombstone). Valid only inside the poll closure.
    public var value: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: message.pointee.payload, count: message.pointee.len)
    }

    /// The Kafka timestamp in milliseconds since the epoch (create or log-append time, whichever the
    /// topic keeps), or `nil` when the message has none.
    public var timestamp: Int64? {
        let timestamp = rd_kafka_message_timestamp(message, nil)
        return timestamp < 0 ? nil : timestamp
    }

    /// The value of the last header named `key`: `nil` when there is no such header, an empty buffer
    /// when its value is null or empty. Valid only inside the poll closure.
    public func header(_ key: String) -> UnsafeRawBufferPointer? {
        guard let headers = cHeaders else { return nil }
        var value: UnsafeRawPointer?
        var size = 0
        guard rd_kafka_header_get_last(headers, key, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR else {
            return nil
        }
        return UnsafeRawBufferPointer(start: value, count: size)
    }

    /// All headers in order, copied (allocates; meant for the rare path such as a dead letter).
    public var headers: [KafkaHeader] {
        guard let headers = cHeaders else { return [] }
        var result: [KafkaHeader] = []
        var index = 0
        var name: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var size = 0
        while rd_kafka_header_get_all(headers, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
            let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }
            result.append(KafkaHeader(key: name.map { String(cString: $0) } ?? "", value: bytes))
            index += 1
        }
        return result
    }

    private var cHeaders: OpaquePointer? {
        var headers: OpaquePointer?
        guard rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        return headers
    }
}
