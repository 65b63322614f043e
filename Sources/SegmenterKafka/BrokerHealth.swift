import Foundation

/// How many of the cluster's brokers a client is connected to, from librdkafka's statistics (every second).
public struct BrokerHealth: Sendable, Hashable {
    /// Brokers whose connection state is `UP`.
    public var up: Int
    /// Brokers the client knows of (bootstrap and learned ones, by node id).
    public var known: Int

    public init(up: Int, known: Int) {
        self.up = up
        self.known = known
    }

    /// Reads the `brokers` object of a librdkafka statistics document; nil when it has none.
    static func parse(statistics json: UnsafeRawBufferPointer) -> BrokerHealth? {
        guard let document = try? JSONSerialization.jsonObject(with: Data(json)) as? [String: Any],
              let brokers = document["brokers"] as? [String: Any]
        else { return nil }
        var states: [Int: Bool] = [:]
        for case let broker as [String: Any] in brokers.values {
            // The internal and logical (coordinator) entries are not brokers of their own.
            let source = broker["source"] as? String
            guard source != "internal", source != "logical", let node = broker["nodeid"] as? Int, node >= 0 else {
                continue
            }
            states[node] = (states[node] ?? false) || broker["state"] as? String == "UP"
        }
        return BrokerHealth(up: states.values.filter { $0 }.count, known: states.count)
    }
}
