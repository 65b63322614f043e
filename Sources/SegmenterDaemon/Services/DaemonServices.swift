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
                    dataDirectory: configuration.store.dataDirectory, configuration: configuration.segmentation,
                    audiences: configuration.audiences),
                logger: logger, commands: { try await pipeline.perform($0) })
            services.append(.init(service: server, failureTerminationBehavior: .gracefullyShutdownGroup))
        }
        return services
    }

    /// Runs the daemon until SIGTERM or SIGINT (`segmenter run`): the pipeline and the HTTP server in one service
    /// group, which shuts them down gracefully.
    public static func run(configuration: SegmenterConfiguration, logger: Logger) async throws {
        let pipeline = try Pipeline(configuration: configuration, logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: try make(pipeline: pipeline, configuration: configuration, logger: logger),
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// A logger writing to standard error at `level` (`--log-level`; swift-log's bootstrap runs once per process).
    public static func standardErrorLogger(label: String, level name: String) throws -> Logger {
        guard let level = Logger.Level(rawValue: name) else {
            throw SegmenterError(
                .invalidRequest, "--log-level \(name) is not one of trace, debug, info, notice, warning, error")
        }
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }
}
