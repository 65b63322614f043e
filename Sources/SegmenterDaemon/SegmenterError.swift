import Foundation
import Hummingbird
import SegmenterCore
import SegmenterKafka
import SegmenterStore

/// An error that crosses a boundary of the daemon (to the CLI, to an HTTP answer, to a log line): a code to branch
/// on — it decides the HTTP status — and a sentence saying what was wrong and what to do. Errors of the other
/// modules become one here, in ``init(_:)``, keeping their own code as the `cause`.
public struct SegmenterError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The request or command is malformed or names something invalid (HTTP 400).
        case invalidRequest = "invalid_request"
        /// The request changes the daemon and lacks its token (HTTP 401).
        case unauthorized
        /// What it names does not exist: a segment, a snapshot, a customer, a store, a route (HTTP 404).
        case notFound = "not_found"
        /// It conflicts with the current state: the directory is in use, the model is not initialised, the data
        /// was built with other features (HTTP 409).
        case conflict
        /// The request body is larger than `http.max_body_bytes` (HTTP 413).
        case tooLarge = "too_large"
        /// A file could not be read or written (HTTP 500).
        case ioFailure = "io_failure"
        /// The daemon cannot do it now: it is stopping, or a part it needs is down (HTTP 503).
        case unavailable
        /// It did not finish in time (HTTP 504).
        case timeout
    }

    public var code: Code
    public var message: String
    /// The code of the module error this one stands for (`store.busy`, `kafka.timeout`), when there was one.
    public var cause: String?

    public init(_ code: Code, _ message: String, cause: String? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// The error of any module as the daemon reports it: the one place where their codes become ours.
    public init(_ error: any Error) {
        switch error {
        case let error as SegmenterError:
            self = error
        case let error as StoreError:
            let code: Code = switch error.code {
            case .databaseMissing: .notFound
            case .incompatibleSchema, .corrupt: .conflict
            case .busy, .cannotOpen, .constraintViolation, .diskFull, .readOnly, .ioFailure, .invalidArgument,
                 .sqlite: .unavailable
            }
            self.init(code, error.message, cause: "store.\(error.code.rawValue)")
        case let error as KafkaError:
            self.init(
                error.code == .timeout ? .timeout : .unavailable, error.message, cause: "kafka.\(error.code.rawValue)")
        case let error as SnapshotMismatch:
            self.init(.conflict, error.description, cause: "model.snapshot_mismatch")
        case let error as CustomerStateDecodingError:
            self.init(.conflict, error.description, cause: "store.customer_state")
        default:
            self.init(.unavailable, "\(error)")
        }
    }

    public var description: String { message }

    /// The HTTP status that answers a request failing with this error.
    public var httpStatus: Int {
        switch code {
        case .invalidRequest: 400
        case .unauthorized: 401
        case .notFound: 404
        case .conflict: 409
        case .tooLarge: 413
        case .ioFailure: 500
        case .unavailable: 503
        case .timeout: 504
        }
    }
}

/// Every failed HTTP request is answered here: the status from the code, and a JSON body with the sentence and the
/// code (and the cause, when the error came from another module).
extension SegmenterError: HTTPResponseError {
    public var status: HTTPResponse.Status { .init(code: httpStatus) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        response
    }

    /// The JSON body of a failed request's answer.
    var body: [String: String] {
        var body = ["error": message, "code": code.rawValue]
        if let cause { body["cause"] = cause }
        return body
    }

    /// The answer to a request that failed with this error.
    var response: Response {
        var response = HTTPServer.json(status, body)
        if code == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer" }
        return response
    }
}
