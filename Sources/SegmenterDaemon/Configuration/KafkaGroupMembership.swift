/// Consumer-group membership: how an instance names itself to the group and how long the group waits for a member
/// that stopped answering. Together they decide how soon a restarted instance consumes again (issue 25).
extension SegmenterConfiguration.Kafka {
    /// How this instance names itself to the consumer group.
    public enum GroupInstanceID: Sendable, Hashable {
        case auto, off
        case fixed(String)
    }

    /// Defaults for the consumer-group session, overridable through `properties`: a member that dies (`kill -9`)
    /// holds its partitions until its session times out, librdkafka's default 45 s. 6 s is the smallest session
    /// a broker accepts by default (`group.min.session.timeout.ms`), the heartbeat a third of it as Kafka advises.
    /// On the embedded broker a longer heartbeat also helps: a dead member expires after its last heartbeat plus the
    /// session, and when that comes after the restarted member's join window closes, the mock rebalances once more
    /// (~5 s); with 1.5 s that happened in 3 of 5 restarts, with 2 s in 1 of 5.
    public static let sessionDefaults = ["session.timeout.ms": "6000", "heartbeat.interval.ms": "2000"]

    /// The `group.instance.id` this instance joins with, nil for a dynamic member. `auto` is
    /// `<group_id>-<instance id of the data directory>`: stable across restarts, and distinct per instance
    /// because each instance needs its own data directory.
    public func staticMemberID(dataDirectoryInstance instanceID: String) -> String? {
        switch groupInstanceID {
        case .auto: instanceID.isEmpty ? nil : "\(groupID)-\(instanceID)"
        case .off: nil
        case .fixed(let id): id
        }
    }

    /// The consumer's librdkafka properties: the session defaults, then ``properties`` (which win), then the
    /// static member id unless ``properties`` name one.
    public func consumerProperties(dataDirectoryInstance instanceID: String) -> [String: String] {
        var consumer = Self.sessionDefaults.merging(properties) { _, given in given }
        if consumer["group.instance.id"] == nil, let member = staticMemberID(dataDirectoryInstance: instanceID) {
            consumer["group.instance.id"] = member
        }
        return consumer
    }
}
