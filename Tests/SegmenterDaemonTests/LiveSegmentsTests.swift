import SegmenterCore
import Testing

@testable import SegmenterDaemon

/// The live views (the demo's terminal view, the console's frames and its sizes over time) list the segments of the
/// current model only: sizes are kept by id, so ids a refinement retired linger there at 0 without a name.
@Suite("live segment views")
struct LiveSegmentsTests {
    /// Three live segments beside four ids retired by a refinement, still in the sizes at 0.
    private var statusAfterARefinement: PipelineStatus {
        var status = PipelineStatus()
        status.segmentSizes = [1: 0, 2: 0, 3: 120, 4: 0, 5: 0, 7: 80, 8: 50]
        status.segmentNames = [3: "High-value buyers", 7: "Dormant", 8: "Window shoppers"]
        return status
    }

    @Test("the demo's terminal view shows the current model's segments and no retired 'Segment N' row")
    func terminalViewShowsOnlyLiveSegments() {
        let screen = TerminalView.screen(statusAfterARefinement, rate: 0, produced: nil, header: "demo")
        for name in ["High-value buyers", "Dormant", "Window shoppers"] {
            #expect(screen.contains(name))
        }
        #expect(!screen.contains("Segment "), "no row for a retired id:\n\(screen)")
        let table = screen.components(separatedBy: "customers\n").dropFirst().first?
            .components(separatedBy: "\n\n").first ?? ""
        #expect(table.split(separator: "\n").count == 3, "one row per live segment:\n\(table)")
        let line = TerminalView.line(statusAfterARefinement, rate: 0)
        #expect(line.hasSuffix("segments 3:120 7:80 8:50\n"), "\(line)")
    }

    @Test("before the model exists the terminal view says so instead of listing sizes")
    func terminalViewBeforeTheModel() {
        let screen = TerminalView.screen(PipelineStatus(), rate: 0, produced: nil, header: "demo")
        #expect(screen.contains("no model yet"))
    }

    @Test("a console frame lists the current model's segments with their sizes, in id order, and no retired id")
    func consoleFrameShowsOnlyLiveSegments() {
        let frame = ConsoleRoutes.snapshot(statusAfterARefinement, .none, at: 1_000)
        #expect(frame.segments == [
            LiveSegment(id: 3, name: "High-value buyers", size: 120), LiveSegment(id: 7, name: "Dormant", size: 80),
            LiveSegment(id: 8, name: "Window shoppers", size: 50),
        ])
    }

    @Test("a change out of a retired segment is shown under that id, marked retired")
    func transitionFromARetiredSegment() {
        var status = statusAfterARefinement
        status.changesByTransition = [SegmentTransition(from: 2, to: 3): 9]
        let frame = ConsoleRoutes.snapshot(status, .none, at: 1_000)
        #expect(frame.transitions.map(\.from) == ["Segment 2 (retired)"])
        #expect(frame.transitions.map(\.to) == ["High-value buyers"])
    }

    @Test("the size series keeps samples a spacing apart, ignores a clock that steps back")
    func seriesSpacing() {
        var series = SegmentSizeSeries(capacity: 10, spacingMilliseconds: 1_000)
        let segments = [LiveSegment(id: 3, name: "A", size: 5)]
        series.record(segments, at: 10_000)
        series.record(segments, at: 10_400)
        series.record(segments, at: 9_000)
        series.record(segments, at: 11_000)
        #expect(series.samples.map(\.at) == [10_000, 11_000])
        #expect(series.samples.last?.sizes == [.init(id: 3, size: 5)])
    }

    @Test("a full size series drops every other sample, keeps the newest, and doubles its spacing")
    func seriesThinning() {
        var series = SegmentSizeSeries(capacity: 4, spacingMilliseconds: 1_000)
        for second in 0...4 {
            series.record([LiveSegment(id: 1, name: "A", size: Int64(second))], at: Int64(second) * 1_000)
        }
        #expect(series.samples.map(\.at) == [0, 2_000, 4_000])
        #expect(series.spacingMilliseconds == 2_000)
        series.record([], at: 5_000)
        series.record([], at: 6_000)
        #expect(series.samples.map(\.at) == [0, 2_000, 4_000, 6_000])
    }
}
