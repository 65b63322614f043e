import Foundation
import Hummingbird
import SegmenterCore

/// The rule-audience endpoints (issue 16): the configured audiences with their sizes, and a preview that evaluates
/// a condition over the stored customers without enabling it.
enum AudienceRoutes {
    struct AudienceView: Codable, Sendable {
        var id: String
        var name: String
        var condition: String
        var size: Int64
    }

    struct BackfillView: Codable, Sendable {
        var running: Bool
        var visited: Int64
        var total: Int64
    }

    struct AudiencesView: Codable, Sendable {
        var audiences: [AudienceView]
        var traits: [String]
        var backfill: BackfillView
        var recentChanges: [RecentChangeView]
    }

    struct RecentChangeView: Codable, Sendable {
        var customerID: String
        var audience: String
        var event: String
        var cause: String
        var at: String
    }

    static func add(
        to router: Router<BasicRequestContext>, rules: AudienceRules, status: PipelineStatusBoard,
        queries: QueryService, maxBodyBytes: Int
    ) {
        router.get("/v1/audiences") { _, _ in
            HTTPServer.json(.ok, view(rules: rules, status: status.read().audiences))
        }
        router.post("/v1/audiences/preview") { request, _ in
            struct Preview: Decodable { var when: String }
            let body = try await request.body.collect(upTo: maxBodyBytes)
            guard let preview = try? JSONDecoder().decode(Preview.self, from: Data(buffer: body)) else {
                return SegmenterError(
                    .invalidRequest, #"send a JSON body {"when": "<condition>"}, e.g. {"when": "orders_30d >= 2"}"#
                ).response
            }
            let condition: AudienceCondition
            switch Result(catching: { () throws(AudienceConditionError) in try rules.condition(preview.when) }) {
            case .success(let parsed):
                condition = parsed
            case .failure(let error):
                struct Problem: Encodable {
                    var error: String
                    var code = SegmenterError.Code.invalidRequest.rawValue
                    var position: Int
                }
                return HTTPServer.json(.badRequest, Problem(
                    error: "the condition cannot be used: \(error)", position: error.position))
            }
            return HTTPServer.answer { try queries.preview(condition) }
        }
    }

    static func view(rules: AudienceRules, status: AudienceStatus) -> AudiencesView {
        AudiencesView(
            audiences: rules.audiences.map {
                AudienceView(id: $0.id, name: $0.name, condition: $0.when, size: status.sizes[$0.id] ?? 0)
            },
            traits: rules.traits.map(\.name),
            backfill: BackfillView(
                running: status.backfillRunning, visited: status.backfillVisited, total: status.backfillTotal),
            recentChanges: recentChanges(status))
    }

    /// The latest audience events, newest first.
    static func recentChanges(_ status: AudienceStatus) -> [RecentChangeView] {
        status.recent.reversed().map {
            RecentChangeView(customerID: $0.customerID, audience: $0.audience, event: $0.event, cause: $0.cause,
                             at: RFC3339.format($0.at))
        }
    }
}
