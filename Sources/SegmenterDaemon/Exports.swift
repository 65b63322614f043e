/// The pure core's value types (events, input formats, the segmentation and its snapshots, the generator) are
/// part of this module's interface: commands and embedders use them through SegmenterDaemon, which keeps Kafka,
/// SQLite and HTTP behind its own types.
@_exported import SegmenterCore
