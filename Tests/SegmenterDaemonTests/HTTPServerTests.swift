import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import SegmenterCore
import SegmenterKafka
import SegmenterStore
import Testing

@testable import SegmenterDaemon

/// The real HTTP server on a free loopback port, over a real store in a temporary directory.
func withLiveServer<R: Sendable>(
    status: PipelineStatusBoard, configuration: SegmenterConfiguration,
    commands: (@Sendable (ModelCommand) async throws -> String)? = nil,
    _ body: @escaping @Sendable (any TestClientProtocol) async throws -> R
) async throws -> R {
    var configuration = configuration
    configuration.http.port = 0
    let app = HTTPServer.make(
        configuration: configuration, status: status, metrics: SegmenterMetrics(status: status),
        queries: QueryService(dataDirectory: configuration.store.dataDirectory,
                              configuration: configuration.segmentation),
        logger: Logger(label: "test"), commands: commands)
    return try await app.test(.live, body)
}

func json(_ response: TestResponse) throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any] ?? [:]
}

@Suite("HTTP API", .serialized)
struct HTTPServerTests {
    func readyStatus() -> PipelineStatusBoard {
        let status = PipelineStatusBoard()
        status.update {
            $0.started = true
            $0.storeOpen = true
            $0.assignedPartitions = [TopicPartition(topic: "events", partition: 0)]
            $0.lagByPartition = [TopicPartition(topic: "events", partition: 0): 12]
        }
        return status
    }

    @Test("health and readiness: ready only with the store open, partitions assigned and lag under the bound")
    func healthAndReadiness() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("http-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let (configuration, _) = try ModelAdministrationTests().trainedStore(in: directory)
        let status = readyStatus()
        try await withLiveServer(status: status, configuration: configuration) { client in
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/readyz", method: .get) { #expect($0.status == .ok) }
            status.update { $0.lagByPartition = [TopicPartition(topic: "events", partition: 0): 1_000_000] }
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let reasons = try json(response)["reasons"] as? String
                #expect(reasons?.contains("consumer lag 1000000") == true)
            }
            status.update { $0.assignedPartitions = []; $0.lagByPartition = [:] }
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let reasons = try json(response)["reasons"] as? String
                #expect(reasons?.contains("no partitions") == true)
            }
        }
    }

    @Test("customers, segments and the model are answered from the store; an unknown customer is a JSON 404")
    func queries() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("http-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let (configuration, path) = try ModelAdministrationTests().trainedStore(in: directory)
        let customer = try #require(try StateStore(path: path).customers(afterID: nil, limit: 1).first)
        try await withLiveServer(status: readyStatus(), configuration: configuration) { client in
            try await client.execute(uri: "/v1/customers/\(customer.customerID)", method: .get) { response in
                #expect(response.status == .ok)
                let body = try json(response)
                #expect(body["customer_id"] as? String == customer.customerID)
                #expect((body["segment"] as? [String: Any])?["id"] as? Int == customer.segmentID)
                #expect(body["event_count"] as? Int == Int(customer.eventCount))
                #expect((body["features"] as? [String: Any])?["orders_30d"] != nil)
                #expect(body["last_event_at"] as? String == RFC3339.format(customer.lastEventAt))
                let stages = LifecycleStage.allCases.map(\.rawValue)
                #expect(stages.contains(body["lifecycle"] as? String ?? ""), "the lifecycle traits of issue 24")
                #expect((body["predictions"] as? [String: Any])?["expected_revenue"] is NSNumber)
                #expect((body["rfm"] as? [String: Any])?["r"] as? Int != nil)
            }
            try await client.execute(uri: "/v1/customers/nobody", method: .get) { response in
                #expect(response.status == .notFound)
                let error = try json(response)["error"] as? String
                #expect(error?.contains("nobody") == true)
            }
            try await client.execute(uri: "/v1/segments", method: .get) { response in
                let segments = try #require(try json(response)["segments"] as? [[String: Any]])
                #expect(segments.count == configuration.segmentation.kmeans.k)
                #expect(segments.allSatisfy { $0["name"] is String && $0["profile"] is [String: Any] })
                // Customers whose first session had not ended when the events ran out have no segment yet.
                let assigned = try StateStore(path: path).customers(afterID: nil, limit: 1_000)
                    .filter { $0.segmentID != nil }.count
                #expect(assigned > 450)
                #expect(segments.reduce(0) { $0 + ($1["size"] as? Int ?? 0) } == assigned)
            }
            try await client.execute(uri: "/v1/model", method: .get) { response in
                let model = try json(response)
                #expect(model["k"] as? Int == configuration.segmentation.kmeans.k)
                #expect((model["version"] as? Int ?? 0) >= 1)
                #expect((model["features"] as? [Any])?.count == configuration.segmentation.features.features.count)
            }
        }
    }

    @Test("metrics: lag per partition appears and disappears with the assignment; invalid reasons start at 0")
    func metrics() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("http-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let (configuration, _) = try ModelAdministrationTests().trainedStore(in: directory)
        let status = readyStatus()
        status.update {
            $0.segmentSizes = [1: 40]
            $0.segmentNames = [1: "Dormant"]
            $0.eventsByPartition = [TopicPartition(topic: "events", partition: 0): 100]
            $0.invalidByReason = ["invalid_json": 2]
        }
        try await withLiveServer(status: status, configuration: configuration) { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                let text = String(buffer: response.body)
                #expect(text.contains(#"segmenter_consumer_lag{topic="events",partition="0"} 12"#))
                #expect(text.contains(#"segmenter_events_total{topic="events",partition="0"} 100"#))
                #expect(text.contains(#"segmenter_events_invalid_total{reason="invalid_json"} 2"#))
                for reason in SegmenterMetrics.reasons where reason != "invalid_json" {
                    #expect(text.contains("segmenter_events_invalid_total{reason=\"\(reason)\"} 0"), "\(reason)")
                }
                #expect(text.contains(#"segmenter_segment_customers{segment_id="1",segment_name="Dormant"} 40"#))
                #expect(text.contains("process_resident_memory_bytes"))
                #expect(text.contains("segmenter_ready 1"))
            }
            status.update {
                $0.lagByPartition = [TopicPartition(topic: "events", partition: 1): 3]
                $0.assignedPartitions = [TopicPartition(topic: "events", partition: 1)]
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                let text = String(buffer: response.body)
                #expect(!text.contains(#"partition="0"} 12"#), "a revoked partition's lag series is removed")
                #expect(text.contains(#"segmenter_consumer_lag{topic="events",partition="1"} 3"#))
            }
        }
    }

    @Test("model commands and renames go to the pipeline and answer with its result, or a 404 for a missing segment")
    func commands() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("http-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let (configuration, _) = try ModelAdministrationTests().trainedStore(in: directory)
        let received = CommandLog()
        try await withLiveServer(status: readyStatus(), configuration: configuration, commands: { command in
            received.append(command)
            if case .rename(99, _) = command { throw SegmenterError(.notFound, "there is no segment 99") }
            return "done"
        }) { client in
            try await client.execute(uri: "/v1/model/freeze", method: .post) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/model/rollback/3", method: .post) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/segments/2", method: .put,
                                     body: ByteBuffer(string: #"{"name":"VIP"}"#)) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/segments/99", method: .put,
                                     body: ByteBuffer(string: #"{"name":"x"}"#)) { response in
                #expect(response.status == .notFound)
                let error = try json(response)["error"] as? String
                #expect(error?.contains("99") == true)
                #expect(try json(response)["code"] as? String == "not_found")
            }
            try await client.execute(uri: "/v1/segments/2", method: .put, body: ByteBuffer(string: "nope")) {
                response in
                #expect(response.status == .badRequest)
                let code = try json(response)["code"] as? String
                #expect(code == "invalid_request")
            }
        }
        #expect(received.all == [.freeze, .rollback(version: 3), .rename(segment: 2, name: "VIP"),
                                 .rename(segment: 99, name: "x")])
    }
}

final class CommandLog: @unchecked Sendable {
    private let lock = NSLock()
    private var commands: [ModelCommand] = []
    func append(_ command: ModelCommand) { lock.withLock { commands.append(command) } }
    var all: [ModelCommand] { lock.withLock { commands } }
}
