import Foundation
import ServiceLifecycle
import Synchronization

/// The live view of `segmenter demo`: once a second, throughput, lag, segment sizes with names and the latest
/// changes, redrawn in place on a terminal (one summary line per second when output is not a terminal).
public struct TerminalView: Service {
    let status: PipelineStatusBoard
    let stream: EventStreamProducer?
    let header: String

    public init(status: PipelineStatusBoard, stream: EventStreamProducer?, header: String) {
        self.status = status
        self.stream = stream
        self.header = header
    }

    public func run() async throws {
        let interactive = isatty(STDOUT_FILENO) == 1
        var previous = status.read().eventsTotal
        var previousTime = ContinuousClock.now
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            let now = ContinuousClock.now
            let current = status.read()
            let rate = Double(current.eventsTotal - previous) / max((now - previousTime).seconds, 0.001)
            previous = current.eventsTotal
            previousTime = now
            let produced = stream?.progress.withLock { $0 }
            let text = interactive
                ? Self.screen(current, rate: rate, produced: produced, header: header)
                : Self.line(current, rate: rate)
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }

    static func line(_ s: PipelineStatus, rate: Double) -> String {
        String(format: "events %lld (%.0f/s)  lag %lld  invalid %lld  changes %lld  segments %@\n",
               s.eventsTotal, rate, s.totalLag, s.invalidByReason.values.reduce(0, +), s.changesTotal,
               LiveSegment.list(s).map { "\($0.id):\($0.size)" }.joined(separator: " "))
    }

    static func screen(_ s: PipelineStatus, rate: Double, produced: EventStreamProducer.Progress?, header: String)
        -> String
    {
        var out = "\u{1B}[H\u{1B}[2J"
        out += header + "\n\n"
        if let produced {
            out += "generator   \(produced.produced) events produced\(produced.finished ? " (finished)" : "")\n"
        }
        out += String(format: "consumed    %lld events   %8.0f events/s\n", s.eventsTotal, rate)
        out += "lag         \(s.totalLag) over \(s.assignedPartitions.count) partitions\n"
        out += "invalid     \(s.invalidByReason.values.reduce(0, +)) (to the dead-letter topic)"
        out += "   duplicates \(s.duplicates)\n"
        out += "changes     \(s.changesTotal) published   outbox pending \(s.outboxPending)"
        out += String(format: "   batch commit %.1f ms\n", s.lastBatchCommitSeconds * 1000)
        out += "model       version \(s.modelVersion)   inertia \(String(format: "%.3f", s.inertia))\n\n"
        let segments = LiveSegment.list(s)
        let total = Double(max(1, segments.reduce(Int64(0)) { $0 + $1.size }))
        out += "segment                          customers\n"
        for segment in segments {
            let share = Double(segment.size) / total
            let bar = String(repeating: "█", count: Int(30 * share))
            let name = segment.name.prefix(26)
            let padded = name + String(repeating: " ", count: max(0, 26 - name.count))
            out += String(format: "%3d ", segment.id) + padded + String(format: " %8lld  ", segment.size) + bar + "\n"
        }
        if segments.isEmpty { out += "    (no model yet: it starts after the first events)\n" }
        if !s.audiences.sizes.isEmpty {
            out += "\naudience                         customers\n"
            for id in s.audiences.sizes.keys.sorted() {
                let padded = String(id.prefix(30)) + String(repeating: " ", count: max(0, 30 - id.count))
                out += "    " + padded + String(format: " %8lld\n", s.audiences.sizes[id] ?? 0)
            }
        }
        out += "\nlatest changes\n"
        for change in s.recentChanges.suffix(8).reversed() {
            out += "  \(change.customerID): \(change.from ?? "—") → \(change.to)  (\(change.cause))\n"
        }
        out += "\nCtrl-C to stop.\n"
        return out
    }
}
