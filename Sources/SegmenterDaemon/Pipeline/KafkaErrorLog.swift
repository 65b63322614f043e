import Logging
import SegmenterKafka

/// Where librdkafka's voice goes: its error callbacks (broker down, all brokers down, a failed assign) become
/// warnings with `kafka.*` metadata and count toward `segmenter_kafka_errors_total{code}`; its log lines go
/// through swift-log instead of stderr.
final class KafkaErrorLog {
    private let logger: Logger
    /// Counts the errors; set once the pipeline exists. Error callbacks run on the pipeline's thread.
    weak var pipeline: Pipeline?

    init(logger: Logger) {
        self.logger = logger
    }

    func report(_ error: KafkaError, client: String) {
        pipeline?.countKafkaError(error)
        logger.warning("\(error.message)", metadata: [
            "kafka.client": "\(client)", "kafka.code": "\(error.code.rawValue)",
            "kafka.partition": "\(error.topicPartition.map(\.description) ?? "")",
        ])
    }

    /// A handler for librdkafka's log lines (called on its threads; a Logger is thread-safe).
    func logHandler(client: String) -> KafkaLogHandler {
        let logger = self.logger
        return { line in
            let level: Logger.Level = switch line.level {
            case ...3: .error
            case 4: .warning
            case 5, 6: .info
            default: .debug
            }
            logger.log(level: level, "\(line.message)", metadata: [
                "kafka.client": "\(client)", "kafka.facility": "\(line.facility)",
            ])
        }
    }
}
