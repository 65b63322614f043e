/// The one error type of the Kafka edge: a `code` to branch on and a sentence a person can act on
/// (what went wrong, where, and what to check).
public struct KafkaError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is; callers branch on it, people read `message`.
    public enum Code: String, Sendable, Hashable {
        /// A property or setting is invalid; fix the configuration and restart.
        case configuration
        /// No broker could be reached: the bootstrap servers are wrong, down or firewalled.
        case unreachable
        /// An operation did not finish within its deadline.
        case timeout
        /// The producer's local queue is full and stayed full.
        case queueFull
        /// A topic does not exist or is not authorised.
        case unknownTopic
        /// A partition does not exist, is not assigned, or is in the wrong state for the call.
        case partition
        /// The consumer reached the current end of a partition (only with `enable.partition.eof=true`).
        case partitionEOF
        /// A message could not be delivered (reported per message in a `DeliveryReport`).
        case delivery
        /// Committing offsets failed (e.g. the partitions were already taken by another group member).
        case commit
        /// A transient, per-partition or per-connection problem that librdkafka retries by itself.
        case transient
        /// The client is unusable (e.g. an idempotent producer lost its sequence); recreate it.
        case fatal
    }

    /// What kind of failure this is.
    public var code: Code
    /// A sentence for a person: what went wrong, where, and what to check.
    public var message: String
    /// The partition the failure is about, when it is about one.
    public var topicPartition: TopicPartition?

    public init(code: Code, message: String, topicPartition: TopicPartition? = nil) {
        self.code = code
        self.message = message
        self.topicPartition = topicPartition
    }

    public var description: String { "Kafka \(code.rawValue) error: \(message)" }
}
