import Foundation
import SegmenterStore
import Testing

@testable import SegmenterDaemon

/// `segmenter customers erase` as a user runs it: through a running daemon's API (with its token), then on the
/// stopped daemon's data directory.
@Suite("segmenter customers erase", .serialized)
struct ErasureCommandTests {
    @Test("erase goes through the running daemon's API with its token, and works on the stopped directory")
    func eraseThroughDaemonThenOffline() throws {
        try withTemporaryDirectory { directory in
            let broker = try makeBroker()
            let (messages, counts) = generatedMessages(customers: 100, events: 1_000, seed: 31)
            try produce(messages, broker: broker)
            let data = directory.appendingPathComponent("data").path
            let port = try freeLoopbackPort()
            let config = directory.appendingPathComponent("daemon.yaml").path
            try writeTokenDaemonConfiguration(
                to: config, broker: broker, dataDirectory: data, port: port, token: "erase-token")
            let daemon = try DaemonProcess(configFile: config, logDirectory: directory, name: "erase")
            #expect(daemon.waitUntilStarted(), "\(daemon.output.suffix(500))")
            #expect(try waitUntilConsumed(1_000, dataDirectories: [data], within: .seconds(60)))
            let ids = counts.keys.sorted()
            let (online, offline) = (ids[0], ids[1])
            let cli = directory.appendingPathComponent("cli.yaml").path
            try "http:\n  listen: 127.0.0.1:\(port)\n".write(toFile: cli, atomically: true, encoding: .utf8)

            let (status, output) = try runToEnd(
                segmenterExecutable, ["customers", "erase", online, "--data-dir", data, "--config", cli],
                environment: ["SEGMENTER_HTTP_TOKEN": "erase-token"])
            #expect(status == 0, "\(output)")
            #expect(output.contains("erased \(online)"), "\(output)")
            let path = DataDirectory.databasePath(in: data)
            #expect(try StoreReader(path: path).customer(online) == nil, "committed before the command answered")
            let (unknown, refusal) = try runToEnd(
                segmenterExecutable, ["customers", "erase", "nobody", "--data-dir", data, "--config", cli],
                environment: ["SEGMENTER_HTTP_TOKEN": "erase-token"])
            #expect(unknown != 0 && refusal.contains("no customer nobody is known"), "\(refusal)")
            daemon.kill(SIGTERM)
            #expect(daemon.wait(.seconds(20)) == 0)

            #expect(try StoreReader(path: path).customer(offline) != nil)
            let (stopped, answer) = try runToEnd(
                segmenterExecutable, ["customers", "erase", offline, "--data-dir", data, "--config", config], environment: [:])
            #expect(stopped == 0, "\(answer)")
            #expect(answer.contains("erased \(offline)"), "\(answer)")
            let reader = try StoreReader(path: path)
            #expect(try reader.customer(offline) == nil && reader.transitions(customerID: offline, limit: 10).isEmpty)
        }
    }
}
