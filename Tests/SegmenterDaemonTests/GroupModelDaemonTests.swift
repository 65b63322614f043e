import Foundation
import SegmenterKafka
import Testing

@testable import SegmenterDaemon

/// `GET /v1/model` as JSON.
private func model(port: Int) -> [String: Any]? {
    guard let (status, body) = httpRequest("GET", "/v1/model", port: port, token: "group-token"), status == 200 else { return nil }
    return try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
}

/// Two instances share one model (issue 17): the owner of partition 0 leads and publishes, the other adopts.
@Suite("one model for the group", .serialized, .timeLimit(.minutes(5)))
struct GroupModelDaemonTests {
    @Test("two instances: one leads, the other adopts its version, refuses model commands, and follows a freeze")
    func twoInstancesShareTheModel() throws {
        try withTemporaryDirectory { directory in
            let broker = try makeBroker(partitions: 4)
            let (all, _) = generatedMessages(customers: 1_000, events: 30_000, seed: 51)
            let dirs = ["a", "b"].map { directory.appendingPathComponent($0).path }
            let ports = try [freeLoopbackPort(), freeLoopbackPort()]
            func start(_ index: Int) throws -> DaemonProcess {
                let config = try writeConfig(
                    broker: broker, dataDirectory: dirs[index], httpPort: ports[index], in: directory)
                try (String(contentsOfFile: config, encoding: .utf8) + "\n  token: group-token\n")
                    .write(toFile: config, atomically: true, encoding: .utf8)
                return try DaemonProcess(configFile: config, logDirectory: directory, name: ["a", "b"][index])
            }
            try produce(Array(all.prefix(15_000)), broker: broker)
            let a = try start(0)
            #expect(waitUntilGroupConsumed(15_000, dataDirectories: dirs))
            let b = try start(1)
            defer {
                for daemon in [a, b] { daemon.kill(SIGKILL) }
            }
            Thread.sleep(forTimeInterval: 12)
            try produce(Array(all.suffix(from: 15_000)), broker: broker)
            #expect(waitUntilGroupConsumed(30_000, dataDirectories: dirs))

            // One leader, the same version on both, and both name the leader as the model's publisher (a new leader
            // publishes at once, even when it took over the version it adopted).
            var views: [[String: Any]] = []
            let agreed = within(.seconds(20)) {
                views = ports.compactMap { model(port: $0) }
                guard views.count == 2 else { return false }
                let versions = Set(views.compactMap { $0["version"] as? Int })
                let groups = views.compactMap { $0["group"] as? [String: Any] }
                let roles = groups.compactMap { $0["role"] as? String }
                let publishers = Set(groups.compactMap { $0["leader"] as? String })
                return versions.count == 1 && roles.sorted() == ["follower", "leader"] && publishers.count == 1
            }
            #expect(agreed != nil, "one leader, one follower, one version: \(views)")
            guard agreed != nil else { return }
            let leader = views.firstIndex { ($0["group"] as? [String: Any])?["role"] as? String == "leader" } ?? 0
            let follower = 1 - leader
            let leaderID = (views[leader]["group"] as? [String: Any])?["leader"] as? String
            #expect(leaderID != nil, "the leader names itself as the model's publisher")
            #expect((views[follower]["group"] as? [String: Any])?["adoptions"] as? Int ?? 0 >= 1)

            // Model commands go to the leader: the follower says where.
            let refused = httpRequest("POST", "/v1/model/freeze", port: ports[follower], token: "group-token",
                                      timeout: 20)
            #expect(refused?.0 == 409, "\(refused.map { "\($0)" } ?? "no answer")")
            #expect(refused?.1.contains("send model commands to that instance") == true)

            // A freeze on the leader is published, and the follower's model is frozen too.
            let frozen = httpRequest("POST", "/v1/model/freeze", port: ports[leader], token: "group-token",
                                     timeout: 20)
            #expect(frozen?.0 == 200, "\(frozen.map { "\($0)" } ?? "no answer")")
            #expect(within(.seconds(15)) { model(port: ports[follower])?["frozen"] as? Bool == true } != nil,
                    "the follower adopted the frozen model")

            for daemon in [a, b] { daemon.kill(SIGTERM) }
            for daemon in [a, b] { #expect(daemon.wait(.seconds(20)) == 0) }
        }
    }
}
