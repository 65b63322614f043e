import Logging
import ServiceLifecycle

/// The services one daemon runs: the pipeline, and the HTTP server beside it (when `http.enabled`).
public enum DaemonServices {
    public static func make(pipeline: Pipeline, configuration: SegmenterConfiguration, logger: Logger) throws
        -> [ServiceGroupConfiguration.ServiceConfiguration]
    {
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: PipelineService(pipeline: pipeline), successTerminationBehavior: .gracefullyShutdownGroup,
                  failureTerminationBehavior: .gracefullyShutdownGroup)
        ]
        if configuration.http.enabled {
            let server = HTTPServer.make(
                configuration: configuration, status: pipeline.status,
                metrics: SegmenterMetrics(status: pipeline.status, readyMaxLag: configuration.http.readyMaxLag),
                queries: QueryService(
                    dataDirectory: configuration.store.dataDirectory, configuration: configuration.segmentation),
                logger: logger, commands: { try await pipeline.perform($0) })
            services.append(.init(service: server, failureTerminationBehavior: .gracefullyShutdownGroup))
        }
        return services
    }
}
