/// One line librdkafka logs (connection refused, broker down, …), handed to the owner's log handler instead of
/// being printed to stderr.
public struct KafkaLogLine: Sendable, Hashable {
    /// syslog severity: 0 emergency … 3 error, 4 warning, 5 notice, 6 info, 7 debug.
    public var level: Int32
    /// librdkafka's facility, e.g. `FAIL`, `BROKERFAIL`, `REQTMOUT`.
    public var facility: String
    public var message: String

    public init(level: Int32, facility: String, message: String) {
        self.level = level
        self.facility = facility
        self.message = message
    }
}

/// Receives librdkafka's log lines; called from librdkafka's own threads, so it must be thread-safe.
public typealias KafkaLogHandler = @Sendable (KafkaLogLine) -> Void
