import Logging
import ServiceLifecycle

/// The services one daemon runs, in start-up order: the pipeline first; the HTTP server beside it.
public enum DaemonServices {
    public static func make(pipeline: Pipeline, configuration: SegmenterConfiguration, logger: Logger) throws
        -> [ServiceGroupConfiguration.ServiceConfiguration]
    {
        [.init(service: PipelineService(pipeline: pipeline), successTerminationBehavior: .gracefullyShutdownGroup,
               failureTerminationBehavior: .gracefullyShutdownGroup)]
    }
}
