import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import SegmenterDaemon

/// Issue #14: the mutating API behind a bearer token, a refusal to listen beyond loopback without one, bounded
/// request bodies and JSON for every error.
@Suite("HTTP access", .serialized)
struct HTTPAccessTests {
    func withServer(token: String?, _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void)
        async throws
    {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("http-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var (configuration, _) = try ModelAdministrationTests().trainedStore(in: directory)
        configuration.http.token = token
        configuration.http.maxBodyBytes = 1_024
        try await withLiveServer(status: HTTPServerTests().readyStatus(), configuration: configuration,
                                 commands: { _ in "done" }, body)
    }

    @Test("with http.token set, every mutating endpoint answers 401 without the token and works with it")
    func mutatingEndpointsNeedTheToken() async throws {
        try await withServer(token: "s3cret") { client in
            let endpoints: [(String, HTTPRequest.Method, String?)] = [
                ("/v1/model/freeze", .post, nil), ("/v1/model/unfreeze", .post, nil),
                ("/v1/model/retrain", .post, nil), ("/v1/model/rollback/2", .post, nil),
                ("/v1/segments/1", .put, #"{"name":"VIP"}"#), ("/v1/customers/c-1", .delete, nil),
            ]
            for (uri, method, body) in endpoints {
                for header in [nil, "Bearer wrong", "Bearer s3cret2", "s3cret"] as [String?] {
                    var headers = HTTPFields()
                    if let header { headers[.authorization] = header }
                    try await client.execute(uri: uri, method: method, headers: headers,
                                             body: body.map { ByteBuffer(string: $0) }) { response in
                        #expect(response.status == .unauthorized, "\(method) \(uri) with \(header ?? "no header")")
                        #expect(response.headers[.wwwAuthenticate] == "Bearer")
                        let error = try json(response)["error"] as? String
                        #expect(error?.contains("http.token") == true)
                        #expect(try json(response)["code"] as? String == "unauthorized")
                    }
                }
                try await client.execute(uri: uri, method: method, headers: [.authorization: "Bearer s3cret"],
                                         body: body.map { ByteBuffer(string: $0) }) { response in
                    #expect(response.status == .ok, "\(method) \(uri) with the token")
                }
            }
            // Reads stay open: probes and Prometheus carry no token.
            for uri in ["/healthz", "/readyz", "/metrics", "/v1/segments", "/v1/model"] {
                try await client.execute(uri: uri, method: .get) { #expect($0.status == .ok, "GET \(uri)") }
            }
        }
    }

    @Test("without a token on a loopback address the mutating endpoints stay open (the default)")
    func loopbackWithoutToken() async throws {
        try await withServer(token: nil) { client in
            try await client.execute(uri: "/v1/model/freeze", method: .post) { #expect($0.status == .ok) }
        }
    }

    @Test("a request body over http.max_body_bytes is refused with a JSON 413")
    func bodyIsLimited() async throws {
        try await withServer(token: nil) { client in
            let big = #"{"name":""# + String(repeating: "x", count: 2_000) + #""}"#
            try await client.execute(uri: "/v1/segments/1", method: .put, body: ByteBuffer(string: big)) { response in
                #expect(response.status == .contentTooLarge)
                let error = try json(response)["error"] as? String
                #expect(error?.contains("http.max_body_bytes") == true)
                #expect(try json(response)["code"] as? String == "too_large")
            }
            try await client.execute(uri: "/v1/model/freeze", method: .post, body: ByteBuffer(string: big)) {
                #expect($0.status == .contentTooLarge)
            }
        }
    }

    @Test("an unknown path is a JSON 404 that lists the endpoints")
    func unknownPath() async throws {
        try await withServer(token: "s3cret") { client in
            for (uri, method) in [("/nope", HTTPRequest.Method.get), ("/v1/model/explode", .post),
                                  ("/v1/customers", .get)] {
                try await client.execute(uri: uri, method: method, headers: [.authorization: "Bearer s3cret"]) {
                    response in
                    #expect(response.status == .notFound, "\(method) \(uri)")
                    #expect(response.headers[.contentType] == "application/json")
                    let error = try json(response)["error"] as? String
                    #expect(error?.contains("/v1/segments") == true)
                    #expect(try json(response)["code"] as? String == "not_found")
                }
            }
        }
    }

    @Test("a non-loopback http.listen without a token refuses to start unless allow_unauthenticated is set")
    func nonLoopbackNeedsToken() throws {
        #expect(throws: ConfigurationError.self) {
            _ = try SegmenterConfiguration.load(path: nil, environment: ["SEGMENTER_HTTP_LISTEN": "0.0.0.0:9464"])
        }
        do {
            _ = try SegmenterConfiguration.load(path: nil, environment: ["SEGMENTER_HTTP_LISTEN": "0.0.0.0:9464"])
        } catch {
            #expect("\(error)".contains("http.token"))
            #expect("\(error)".contains("http.allow_unauthenticated"))
        }
        let withToken = try SegmenterConfiguration.load(
            path: nil, environment: ["SEGMENTER_HTTP_LISTEN": "0.0.0.0:9464", "SEGMENTER_HTTP_TOKEN": "t0ken"])
        #expect(withToken.http.token == "t0ken")
        let allowed = try SegmenterConfiguration.load(
            path: nil, environment: ["SEGMENTER_HTTP_LISTEN": "10.1.2.3:9464",
                                     "SEGMENTER_HTTP__ALLOW_UNAUTHENTICATED": "true"])
        #expect(allowed.http.allowUnauthenticated)
        for loopback in ["127.0.0.1:9464", "localhost:1", "[::1]:9464"] {
            #expect(throws: Never.self) {
                _ = try SegmenterConfiguration.load(path: nil, environment: ["SEGMENTER_HTTP_LISTEN": loopback])
            }
        }
        let disabled = try SegmenterConfiguration.load(
            path: nil, environment: ["SEGMENTER_HTTP_LISTEN": "0.0.0.0:9464", "SEGMENTER_HTTP__ENABLED": "false"])
        #expect(!disabled.http.enabled)
    }
}

@Suite("segmenter model against a daemon with a token", .serialized, .timeLimit(.minutes(2)))
struct ModelCommandTokenTests {
    func segmenter(_ arguments: [String], environment: [String: String]) throws -> (Int32, String) {
        try runToEnd(segmenterExecutable, arguments, environment: environment)
    }

    @Test("segmenter model freeze sends the daemon's token; without it the command says which token to set")
    func cliSendsTheToken() throws {
        try withTemporaryDirectory { directory in
            let broker = try makeBroker()
            try produce(generatedMessages(customers: 100, events: 1_000, seed: 3).0, broker: broker)
            let data = directory.appendingPathComponent("data").path
            let port = try freeLoopbackPort()
            let config = directory.appendingPathComponent("token.yaml").path
            try writeTokenDaemonConfiguration(
                to: config, broker: broker, dataDirectory: data, port: port, token: "s3cret-token")
            let daemon = try DaemonProcess(configFile: config, logDirectory: directory, name: "token")
            #expect(daemon.waitUntilStarted(), "\(daemon.output.suffix(500))")
            #expect(try waitUntilConsumed(1_000, dataDirectories: [data], within: .seconds(60)))

            // The configuration the CLI reads has no token: the daemon refuses and the CLI says what to set.
            let withoutToken = directory.appendingPathComponent("cli.yaml").path
            try "http:\n  listen: 127.0.0.1:\(port)\n".write(toFile: withoutToken, atomically: true, encoding: .utf8)
            let (refused, refusal) = try segmenter(
                ["model", "freeze", "--data-dir", data, "--config", withoutToken], environment: [:])
            #expect(refused != 0)
            #expect(refusal.contains("SEGMENTER_HTTP_TOKEN"), "\(refusal)")

            let (status, output) = try segmenter(
                ["model", "freeze", "--data-dir", data, "--config", withoutToken],
                environment: ["SEGMENTER_HTTP_TOKEN": "s3cret-token"])
            #expect(status == 0, "\(output)")
            #expect(output.contains("frozen"), "\(output)")
            daemon.kill(SIGTERM)
            #expect(daemon.wait(.seconds(20)) == 0)
        }
    }
}
