import Foundation
import ServiceLifecycle

/// Runs blocking work (a librdkafka loop) on its own thread as a swift-service-lifecycle service: never in the
/// cooperative pool, and graceful shutdown calls `stop` so the work can finish cleanly.
func runBlockingService(
    threadName: String, work: @escaping @Sendable () throws -> Void, stop: @escaping @Sendable () -> Void
) async throws {
    try await withGracefulShutdownHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            let thread = Thread {
                do {
                    try work()
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.name = threadName
            thread.start()
        }
    } onGracefulShutdown: {
        stop()
    }
}
