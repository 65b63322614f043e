import Foundation
import SegmenterCore
import SegmenterStore

/// `segmenter export`: one record per customer from a data directory, through a read-only connection, so it
/// works while the daemon runs. Features are in user units as of the model's watermark.
public enum Export {
    public enum Format: String, Sendable, CaseIterable {
        case csv, ndjson
    }

    public static func run(
        dataDirectory: String, configuration: SegmentationConfiguration, format: Format,
        write: (String) throws -> Void
    ) throws -> Int {
        let path = URL(fileURLWithPath: dataDirectory).appendingPathComponent(DataDirectory.databaseFileName).path
        let reader = try StoreReader(path: path)
        try DataDirectory.refuseOtherFeatures(than: configuration.features, metadata: reader.metadata, path: path)
        var segmentation = Segmentation(configuration: configuration)
        if let model = try reader.model() {
            segmentation = try Segmentation(
                configuration: configuration, snapshot: try SegmentationSnapshot.decode(model.blob))
        }
        let names = configuration.features.features.map(\.name)
        if format == .csv {
            try write((["customer_id", "segment_id", "segment_name", "event_count", "last_event_at"] + names)
                .joined(separator: ",") + "\n")
        }
        var count = 0
        var values: [Double] = []
        try reader.forEachCustomer { stored in
            let state = try CustomerState(encoded: stored.state, layout: segmentation.layout)
            state.features(at: segmentation.watermark, layout: segmentation.layout, into: &values)
            let segmentName = stored.segmentID.map { segmentation.name(of: $0) }
            let lastEventAt = RFC3339.format(stored.lastEventAt)
            switch format {
            case .csv:
                var fields = [CSV.field(stored.customerID), stored.segmentID.map(String.init) ?? "",
                              CSV.field(segmentName ?? ""), String(stored.eventCount), lastEventAt]
                fields += values.map { String(format: "%.6g", $0) }
                try write(fields.joined(separator: ",") + "\n")
            case .ndjson:
                var line = "{\"customer_id\":\"\(JSONString.escape(stored.customerID))\",\"segment_id\":"
                line += stored.segmentID.map(String.init) ?? "null"
                line += ",\"segment_name\":" + (segmentName.map { "\"\(JSONString.escape($0))\"" } ?? "null")
                line += ",\"event_count\":\(stored.eventCount),\"last_event_at\":\"\(lastEventAt)\",\"features\":{"
                line += zip(names, values).map { "\"\(JSONString.escape($0))\":\(String(format: "%.6g", $1))" }
                    .joined(separator: ",")
                try write(line + "}}\n")
            }
            count += 1
        }
        return count
    }
}
