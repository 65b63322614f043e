import Foundation
import ServiceLifecycle

/// Runs a ``Pipeline`` as a swift-service-lifecycle `Service`: the loop gets its own thread (it blocks in
/// librdkafka, never in the cooperative pool), and graceful shutdown (SIGTERM/SIGINT through the ServiceGroup)
/// asks it to finish the batch, commit and flush.
public struct PipelineService: Service {
    public let pipeline: Pipeline

    public init(pipeline: Pipeline) {
        self.pipeline = pipeline
    }

    public func run() async throws {
        let pipeline = self.pipeline
        try await runBlockingService(
            threadName: "segmenter-pipeline", work: { try pipeline.run() }, stop: { pipeline.stop() })
    }
}
