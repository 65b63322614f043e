import Foundation
import SegmenterCore
import SegmenterStore
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

extension CustomerRecord {
    /// A stored customer read back with the feature layout it was written with.
    init(stored: StoredCustomer, layout: FeatureLayout) throws {
        self.init(
            customerID: stored.customerID, partition: stored.partition,
            state: try CustomerState(encoded: stored.state, layout: layout), segmentID: stored.segmentID,
            segmentSince: stored.segmentSince, transitionSeq: stored.transitionSeq, eventCount: stored.eventCount,
            timerDueAt: stored.timerDueAt)
    }
}
