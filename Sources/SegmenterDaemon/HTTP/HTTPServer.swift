import Foundation
import Hummingbird
import Logging

/// The HTTP side (Hummingbird 2), served beside the pipeline: Prometheus metrics, health and readiness, and the
/// read API. Loopback by default (`http.listen`); binding elsewhere is an explicit choice, and needs an
/// `http.token` (or `http.allow_unauthenticated: true`, checked when the configuration is read).
public enum HTTPServer {
    public static func make(
        configuration: SegmenterConfiguration, status: PipelineStatusBoard, metrics: SegmenterMetrics,
        queries: QueryService, logger: Logger, commands: (@Sendable (ModelCommand) async throws -> String)? = nil
    ) -> some ApplicationProtocol {
        make(configuration: configuration, status: status, metrics: metrics, queries: queries, logger: logger,
             commands: commands, history: SegmentSizeHistory(status: status))
    }

    /// The server with the console's size history given, so that a test can sample it faster and wait for it.
    static func make(
        configuration: SegmenterConfiguration, status: PipelineStatusBoard, metrics: SegmenterMetrics,
        queries: QueryService, logger: Logger, commands: (@Sendable (ModelCommand) async throws -> String)?,
        history: SegmentSizeHistory
    ) -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: HTTPAccessMiddleware(
            token: configuration.http.token, maxBodyBytes: configuration.http.maxBodyBytes))
        if let commands {
            ModelRoutes.add(to: router, maxBodyBytes: configuration.http.maxBodyBytes, submit: commands)
        }
        AudienceRoutes.add(
            to: router, rules: configuration.audiences, status: status, queries: queries,
            maxBodyBytes: configuration.http.maxBodyBytes)
        ConsoleRoutes.add(
            to: router, status: status, rules: configuration.audiences, queries: queries, history: history)
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.render())))
        }
        router.get("/healthz") { _, _ in
            json(.ok, ["status": "ok"])
        }
        router.get("/readyz") { _, _ in
            let problems = status.read().readinessProblems(maxLag: configuration.http.readyMaxLag)
            return problems.isEmpty
                ? json(.ok, ["status": "ready"])
                : json(.serviceUnavailable, ["status": "not ready", "reasons": problems.joined(separator: "; ")])
        }
        router.get("/v1/customers/:id") { _, context in
            let id = context.parameters.get("id") ?? ""
            return answer { try queries.customer(id) }
        }
        router.get("/v1/segments") { _, _ in
            answer { ["segments": try queries.segments()] }
        }
        router.get("/v1/model") { _, _ in
            answer {
                var view = try queries.model()
                view.group = status.read().groupModel
                return view
            }
        }
        return Application(
            router: router,
            configuration: .init(address: .hostname(configuration.http.host, port: configuration.http.port),
                                 serverName: "segmenter"),
            services: [history],
            logger: logger)
    }

    static func answer(_ body: () throws -> some Encodable) -> Response {
        do {
            return json(.ok, try body())
        } catch {
            return SegmenterError(error).response
        }
    }

    static func json(_ status: HTTPResponse.Status, _ value: some Encodable) -> Response {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
