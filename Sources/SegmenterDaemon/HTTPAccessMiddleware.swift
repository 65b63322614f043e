import Foundation
import Hummingbird

/// Who may do what over HTTP, applied to every request before routing: a request that would change something
/// (any method but GET and HEAD) needs `Authorization: Bearer <http.token>` when a token is configured; a body
/// larger than `http.max_body_bytes` is refused before it is read; and every error, an unknown path included,
/// is answered as JSON with a sentence saying what to do.
struct HTTPAccessMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String?
    let maxBodyBytes: Int

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBodyBytes {
            return tooLarge("has \(length) bytes")
        }
        // A preview only reads, so the console can ask for one without the operator's token.
        if let token, request.method != .get, request.method != .head, request.uri.path != "/v1/audiences/preview",
           !Self.matches(request.headers[.authorization], token: token)
        {
            return SegmenterError(
                .unauthorized,
                "\(request.method) \(request.uri.path) changes the daemon and needs the header "
                    + "\"Authorization: Bearer <token>\" with the daemon's http.token (SEGMENTER_HTTP_TOKEN)"
            ).response
        }
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            return SegmenterError(
                .notFound,
                "there is no \(request.method) \(request.uri.path); the API serves GET /metrics, /healthz, "
                    + "/readyz, /v1/customers/{id}, /v1/segments, /v1/model, /v1/audiences, "
                    + "POST /v1/audiences/preview, "
                    + "/v1/model/freeze, "
                    + "/v1/model/unfreeze, /v1/model/retrain, /v1/model/rollback/{version}, PUT /v1/segments/{id}, "
                    + "DELETE /v1/customers/{id}"
            ).response
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            return tooLarge("is too large")
        } catch let error as SegmenterError {
            return error.response
        } catch let error as any HTTPResponseError {
            let code: SegmenterError.Code = error.status.code < 500 ? .invalidRequest : .unavailable
            return HTTPServer.json(error.status, [
                "error": "\(request.method) \(request.uri.path): \(error)", "code": code.rawValue,
            ])
        }
    }

    private func tooLarge(_ what: String) -> Response {
        SegmenterError(
            .tooLarge, "the request body \(what); at most \(maxBodyBytes) bytes are accepted (http.max_body_bytes)"
        ).response
    }

    /// Compares in time independent of where the first difference is, so the token cannot be guessed byte by byte.
    static func matches(_ header: String?, token: String) -> Bool {
        guard let header, header.hasPrefix("Bearer ") else { return false }
        let given = Array(header.utf8.dropFirst("Bearer ".utf8.count))
        let expected = Array(token.utf8)
        var difference = UInt8(given.count == expected.count ? 0 : 1)
        for i in 0..<expected.count {
            difference |= (i < given.count ? given[i] : 0) ^ expected[i]
        }
        return difference == 0
    }
}
