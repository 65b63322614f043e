import ArgumentParser
import SegmenterDaemon

/// `--input-format` and `--format` take the configuration's names (`native`, `segment`, `ga4`, `snowplow`, `auto`);
/// a wrong value is refused by the parser, which lists them.
extension InputFormat: ExpressibleByArgument {}

extension SyntheticShoppers.Shape: ExpressibleByArgument {}
