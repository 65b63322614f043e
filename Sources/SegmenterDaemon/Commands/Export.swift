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
            try write((["customer_id", "segment_id", "segment_name", "event_count", "last_event_at"] + names
                + ["lifecycle", "p_alive", "expected_orders", "expected_revenue", "rfm_r", "rfm_f", "rfm_m"])
                .joined(separator: ",") + "\n")
        }
        var count = 0
        var values: [Double] = []
        try reader.forEachCustomer { stored in
            let state = try CustomerState(encoded: stored.state, layout: segmentation.layout)
            switch format {
            case .csv:
                state.features(at: segmentation.watermark, layout: segmentation.layout, into: &values)
                let segmentName = stored.segmentID.map { segmentation.name(of: $0) }
                var fields = [CSV.field(stored.customerID), stored.segmentID.map(String.init) ?? "",
                              CSV.field(segmentName ?? ""), String(stored.eventCount),
                              RFC3339.format(stored.lastEventAt)]
                fields += values.map { String(format: "%.6g", $0) }
                fields += csvFields(segmentation.traits(of: state))
                try write(fields.joined(separator: ",") + "\n")
            case .ndjson:
                try write(segmentation.exportLine(
                    customerID: stored.customerID, segmentID: stored.segmentID, eventCount: stored.eventCount,
                    state: state) + "\n")
            }
            count += 1
        }
        return count
    }

    /// The traits' CSV columns: stage, the three predictions, r, f, m; empty when unknown.
    private static func csvFields(_ traits: CustomerTraits) -> [String] {
        let p = traits.prediction
        return [traits.lifecycle?.rawValue ?? ""]
            + [p?.pAlive, p?.expectedOrders, p?.expectedRevenue].map { $0.map { String(format: "%.6g", $0) } ?? "" }
            + [traits.rfm?.r, traits.rfm?.f, traits.rfm?.m].map { $0.map(String.init) ?? "" }
    }
}
