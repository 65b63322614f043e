/// A message to publish after its batch commits: a segment change or a dead letter. `eventID` is deterministic
/// (`<customer_id>:<transition seq>` for changes, `dlq:<topic>/<partition>/<offset>` for dead letters); a second
/// message with the same id is ignored, so re-processing can never queue a message twice.
public struct OutboxMessage: Sendable, Equatable {
    public var eventID: String
    public var customerID: String
    public var partition: Int32
    /// Kafka topic to publish to.
    public var topic: String
    /// Kafka key; nil publishes without a key (a dead letter keeps the original message's absence of key).
    public var key: [UInt8]?
    public var payload: [UInt8]
    /// Kafka headers, in order.
    public var headers: [(String, [UInt8])]
    public var createdAt: Int64

    public init(
        eventID: String, customerID: String, partition: Int32, topic: String, key: [UInt8]?, payload: [UInt8],
        headers: [(String, [UInt8])] = [], createdAt: Int64
    ) {
        self.eventID = eventID
        self.customerID = customerID
        self.partition = partition
        self.topic = topic
        self.key = key
        self.payload = payload
        self.headers = headers
        self.createdAt = createdAt
    }

    public static func == (a: OutboxMessage, b: OutboxMessage) -> Bool {
        a.eventID == b.eventID && a.customerID == b.customerID && a.partition == b.partition && a.topic == b.topic
            && a.key == b.key && a.payload == b.payload && a.createdAt == b.createdAt
            && a.headers.elementsEqual(b.headers) { $0.0 == $1.0 && $0.1 == $1.1 }
    }

    /// Headers as stored: count, then per header a length-prefixed key and value (little-endian).
    static func encodeHeaders(_ headers: [(String, [UInt8])]) -> [UInt8]? {
        guard !headers.isEmpty else { return nil }
        var bytes: [UInt8] = []
        func append(_ n: Int) { for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: n >> (8 * i))) } }
        append(headers.count)
        for (key, value) in headers {
            append(key.utf8.count)
            bytes.append(contentsOf: key.utf8)
            append(value.count)
            bytes.append(contentsOf: value)
        }
        return bytes
    }

    static func decodeHeaders(_ bytes: [UInt8]) -> [(String, [UInt8])] {
        var position = 0
        func read() -> Int? {
            guard position + 4 <= bytes.count else { return nil }
            defer { position += 4 }
            return (0..<4).reduce(0) { $0 | Int(bytes[position + $1]) << (8 * $1) }
        }
        func take(_ n: Int) -> [UInt8]? {
            guard n >= 0, position + n <= bytes.count else { return nil }
            defer { position += n }
            return Array(bytes[position..<(position + n)])
        }
        var headers: [(String, [UInt8])] = []
        guard let count = read() else { return [] }
        for _ in 0..<count {
            guard let keyLength = read(), let key = take(keyLength), let valueLength = read(),
                  let value = take(valueLength)
            else { break }
            headers.append((String(decoding: key, as: UTF8.self), value))
        }
        return headers
    }
}
