import Foundation
import Logging
import SegmenterKafka

/// Where librdkafka's voice goes: its error callbacks (broker down, all brokers down, a failed assign) become
/// warnings with `kafka.*` metadata and count toward `segmenter_kafka_errors_total{code}`; its log lines go
/// through swift-log instead of stderr.
///
/// Threading: ``report(_:client:)`` runs on whichever thread polls the reporting client — the pipeline thread for
/// the consumer, the committer's thread or the pipeline thread for the producer (both poll its deliveries) — and
/// log lines arrive on librdkafka's own threads. So the counts are behind a lock, and the pipeline takes them from
/// its own thread; nothing here touches the pipeline.
final class KafkaErrorLog: @unchecked Sendable {
    private let logger: Logger
    private let lock = NSLock()
    /// Errors by code since the last ``takeCounts()``; guarded by `lock`.
    private var counts: [KafkaError.Code: Int64] = [:]

    init(logger: Logger) {
        self.logger = logger
    }

    func report(_ error: KafkaError, client: String) {
        lock.withLock { counts[error.code, default: 0] += 1 }
        logger.warning("\(error.message)", metadata: [
            "kafka.client": "\(client)", "kafka.code": "\(error.code.rawValue)",
            "kafka.partition": "\(error.topicPartition.map(\.description) ?? "")",
        ])
    }

    /// The errors counted since the last call, by code.
    func takeCounts() -> [KafkaError.Code: Int64] {
        lock.withLock {
            defer { counts.removeAll() }
            return counts
        }
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
