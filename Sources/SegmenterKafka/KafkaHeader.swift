/// One Kafka record header. Keys may repeat within a message; a value may be null.
public struct KafkaHeader: Hashable, Sendable {
    /// The header name.
    public var key: String
    /// The header bytes; `nil` for a null header value (distinct from an empty one).
    public var value: [UInt8]?

    public init(key: String, value: [UInt8]?) {
        self.key = key
        self.value = value
    }
}
