import CRdKafka

/// Small conversions shared by the types that use a librdkafka handle (``RdKafkaClient`` owns it). Internal: C
/// stays here, in the client and in the wrappers.
enum RdKafka {
    /// librdkafka timeouts are `int` milliseconds; clamps to that range, rounding up so that a short
    /// positive timeout never becomes a non-blocking 0.
    static func milliseconds(_ duration: Duration) -> Int32 {
        let (seconds, attoseconds) = duration.components
        if seconds < 0 { return 0 }
        let millis = seconds.multipliedReportingOverflow(by: 1000)
        if millis.overflow || millis.partialValue > Int64(Int32.max) { return Int32.max }
        let rest = (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(min(millis.partialValue + rest, Int64(Int32.max)))
    }

    /// A NUL-terminated error buffer filled in by librdkafka, as text.
    static func string(_ buffer: [CChar]) -> String {
        buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    static func text(_ err: rd_kafka_resp_err_t) -> String { String(cString: rd_kafka_err2str(err)) }

    /// Maps a librdkafka error to a `KafkaError` code; the message is the caller's to write.
    static func code(_ err: rd_kafka_resp_err_t) -> KafkaError.Code {
        switch err {
        case RD_KAFKA_RESP_ERR__FATAL: .fatal
        case RD_KAFKA_RESP_ERR__PARTITION_EOF: .partitionEOF
        case RD_KAFKA_RESP_ERR__QUEUE_FULL: .queueFull
        case RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
            .timeout
        case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, RD_KAFKA_RESP_ERR__RESOLVE: .unreachable
        case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
            RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
            .unknownTopic
        case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION, RD_KAFKA_RESP_ERR__STATE: .partition
        case RD_KAFKA_RESP_ERR__INVALID_ARG, RD_KAFKA_RESP_ERR__NOT_CONFIGURED: .configuration
        default: .transient
        }
    }

    /// A new C partition list; the caller destroys it. Offsets default to `RD_KAFKA_OFFSET_INVALID`
    /// ("use the committed offset").
    static func makeList(_ partitions: some Collection<TopicPartition>) -> UnsafeMutablePointer<
        rd_kafka_topic_partition_list_t
    > {
        let list = rd_kafka_topic_partition_list_new(Int32(partitions.count))!
        for partition in partitions {
            rd_kafka_topic_partition_list_add(list, partition.topic, partition.partition)
        }
        return list
    }

    static func makeList(offsets: [TopicPartition: Int64]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        let list = rd_kafka_topic_partition_list_new(Int32(offsets.count))!
        for (partition, offset) in offsets {
            rd_kafka_topic_partition_list_add(list, partition.topic, partition.partition).pointee.offset = offset
        }
        return list
    }

    static func elements(_ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> UnsafeMutableBufferPointer<
        rd_kafka_topic_partition_t
    > {
        UnsafeMutableBufferPointer(start: list.pointee.elems, count: Int(list.pointee.cnt))
    }

    static func partitions(_ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> [TopicPartition] {
        elements(list).map { TopicPartition(topic: String(cString: $0.topic), partition: $0.partition) }
    }

    /// The first per-partition error in a list that librdkafka filled in, if any.
    static func firstError(_ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> (
        TopicPartition, rd_kafka_resp_err_t
    )? {
        for element in elements(list) where element.err != RD_KAFKA_RESP_ERR_NO_ERROR {
            return (TopicPartition(topic: String(cString: element.topic), partition: element.partition), element.err)
        }
        return nil
    }

    /// Converts a `rd_kafka_error_t` (newer API style) into a `KafkaError` and frees it.
    static func consume(_ error: OpaquePointer, _ what: String) -> KafkaError {
        defer { rd_kafka_error_destroy(error) }
        let code: KafkaError.Code = rd_kafka_error_is_fatal(error) != 0 ? .fatal : code(rd_kafka_error_code(error))
        return KafkaError(code: code, message: "\(what): \(String(cString: rd_kafka_error_string(error)))")
    }
}

extension Duration {
    /// "10 s", "0.5 s": for error messages.
    var formattedSeconds: String {
        let (seconds, attoseconds) = components
        if attoseconds == 0 { return "\(seconds) s" }
        let millis = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return "\(Double(millis) / 1000) s"
    }
}
