import CRdKafka

/// Topic names by librdkafka topic handle, so that a message's topic costs a pointer comparison
/// instead of a new `String` per message. Handles live as long as the client, so they never dangle.
struct TopicNames {
    private var lastHandle: OpaquePointer?
    private var lastName = ""
    private var names: [OpaquePointer: String] = [:]

    mutating func name(of handle: OpaquePointer?) -> String {
        guard let handle else { return "" }
        if handle == lastHandle { return lastName }
        let name: String
        if let known = names[handle] {
            name = known
        } else {
            name = String(cString: rd_kafka_topic_name(handle))
            names[handle] = name
        }
        lastHandle = handle
        lastName = name
        return name
    }
}
