/// An error that crosses a boundary of the daemon (to the CLI, to an HTTP answer, to a log line): a code to branch
/// on — it decides the HTTP status — and a sentence saying what was wrong and what to do.
public struct SegmenterError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The request or command is malformed or names something invalid (HTTP 400).
        case invalidRequest = "invalid_request"
        /// What it names does not exist: a segment, a snapshot, a customer, a store (HTTP 404).
        case notFound = "not_found"
        /// It conflicts with the current state: the directory is in use, the model is not initialised, the data
        /// was built with other features (HTTP 409).
        case conflict
        /// The daemon cannot do it now: it is stopping, or a part it needs is down (HTTP 503).
        case unavailable
        /// It did not finish in time (HTTP 504).
        case timeout
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// The HTTP status that answers a request failing with this error.
    public var httpStatus: Int {
        switch code {
        case .invalidRequest: 400
        case .notFound: 404
        case .conflict: 409
        case .unavailable: 503
        case .timeout: 504
        }
    }
}
