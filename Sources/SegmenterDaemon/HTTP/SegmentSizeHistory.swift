import Foundation
import ServiceLifecycle
import Synchronization

/// Keeps the console's ``SegmentSizeSeries`` for as long as the HTTP server runs, whether or not a page is open: a
/// page opened later draws the whole run, not only the seconds since it connected. It samples the status board once
/// a `spacing`; the pipeline never waits for it.
final class SegmentSizeHistory: Service, Sendable {
    private let status: PipelineStatusBoard
    private let interval: Duration
    private let series: Mutex<SegmentSizeSeries>

    init(status: PipelineStatusBoard, capacity: Int = 360, spacing: Duration = .seconds(1)) {
        self.status = status
        interval = spacing
        let milliseconds = spacing.components.seconds * 1_000 + spacing.components.attoseconds / 1_000_000_000_000_000
        series = Mutex(SegmentSizeSeries(capacity: capacity, spacingMilliseconds: max(1, milliseconds)))
    }

    var samples: [SegmentSizeSeries.Sample] {
        series.withLock { $0.samples }
    }

    /// Samples the board now.
    func sample() {
        let segments = LiveSegment.list(status.read())
        let now = Int64(Date().timeIntervalSince1970 * 1_000)
        series.withLock { $0.record(segments, at: now) }
    }

    func run() async throws {
        // Cancellation is how it stops: at the server's graceful shutdown, or when its task group ends.
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                self.sample()
                try await Task.sleep(for: self.interval)
            }
        }
    }
}
