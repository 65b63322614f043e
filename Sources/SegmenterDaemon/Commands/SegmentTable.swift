import Foundation
import SegmenterCore

/// Renders the segments of a model as a plain-text table for terminals: one row per segment (id, name, size,
/// share), then each segment's profile in user units, one row per feature.
public enum SegmentTable {
    public static func render(segmentation: Segmentation, sizes: [Int: Int]) -> String {
        let profiles = segmentation.profiles()
        let total = max(1, sizes.values.reduce(0, +))
        var lines: [String] = []
        let nameWidth = max(12, profiles.map(\.name.count).max() ?? 0)
        lines.append(pad("id", 4) + "  " + pad("segment", nameWidth) + "  " + pad("customers", 10, right: true)
            + "  " + pad("share", 6, right: true))
        for profile in profiles {
            let size = sizes[profile.id] ?? 0
            lines.append(pad(String(profile.id), 4) + "  " + pad(profile.name, nameWidth) + "  "
                + pad(String(size), 10, right: true) + "  "
                + pad(String(format: "%.1f%%", 100 * Double(size) / Double(total)), 6, right: true))
        }
        lines.append("")
        lines.append("profile (typical customer of each segment, in user units)")
        let features = segmentation.configuration.features.features
        let featureWidth = max(22, features.map(\.name.count).max() ?? 0)
        let columnWidth = 10
        lines.append(
            pad("feature", featureWidth) + profiles.map { pad("#\($0.id)", columnWidth, right: true) }.joined())
        for (i, feature) in features.enumerated() where feature.weight > 0 {
            lines.append(pad(feature.name, featureWidth)
                + profiles.map { pad(format($0.profile[i]), columnWidth, right: true) }.joined())
        }
        return lines.joined(separator: "\n")
    }

    static func format(_ value: Double) -> String {
        if value == 0 { return "0" }
        if abs(value) >= 100 { return String(format: "%.0f", value) }
        if abs(value) >= 10 { return String(format: "%.1f", value) }
        return String(format: "%.2f", value)
    }

    static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let padding = String(repeating: " ", count: max(0, width - text.count))
        return right ? padding + text : text + padding
    }
}
