import Foundation
import Hummingbird
import SegmenterCore

/// The live console a marketer opens at `/` (issue 16): one page whose assets are compiled into the binary
/// (``ConsolePage``; no CDN, no network), and a server-sent-events stream of the status board once a second. The
/// page reads everything else from the JSON API the operators use, so the two cannot disagree.
enum ConsoleRoutes {
    /// One frame of the live stream.
    struct Snapshot: Encodable {
        struct Transition: Encodable {
            var from: String
            var to: String
            var count: Int64
        }

        struct Change: Encodable {
            var customerID: String
            var from: String?
            var to: String
            var cause: String
            var at: String
        }

        struct AudienceSize: Encodable {
            var id: String
            var name: String
            var size: Int64
        }

        /// Wall-clock time of the frame, epoch milliseconds: the page adds it to the sizes over time.
        var at: Int64
        var eventsTotal: Int64
        var lag: Int64
        var outboxPending: Int64
        var modelVersion: Int64
        var changesTotal: Int64
        /// The current model's segments only (see ``LiveSegment``).
        var segments: [LiveSegment]
        var transitions: [Transition]
        var recentChanges: [Change]
        var audiences: [AudienceSize]
        var recentAudienceChanges: [AudienceRoutes.RecentChangeView]
        var backfillRunning: Bool
    }

    /// How long one stream stays open; the browser's EventSource reconnects by itself, so a stream never outlives
    /// a shutdown by more than this.
    static let streamSeconds = 60

    /// What the page shows first: the answers of `/v1/segments` and `/v1/audiences`, and the sizes over time so far.
    struct Initial: Encodable {
        var segments: [String: [QueryService.SegmentView]]
        var audiences: AudienceRoutes.AudiencesView
        var history: [SegmentSizeSeries.Sample]
    }

    static func add(
        to router: Router<BasicRequestContext>, status: PipelineStatusBoard, rules: AudienceRules,
        queries: QueryService, history: SegmentSizeHistory
    ) {
        router.get("/") { _, _ in
            // Before the first model the store may have no segments yet: the page then asks the API itself.
            let segments = (try? queries.segments()) ?? []
            let initial = Initial(
                segments: ["segments": segments],
                audiences: AudienceRoutes.view(rules: rules, status: status.read().audiences),
                history: history.samples)
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.outputFormatting = .sortedKeys
            let json = (try? encoder.encode(initial)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
            return Response(
                status: .ok,
                headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(string: ConsolePage.html(initial: json))))
        }
        router.get("/console/live") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/event-stream", .cacheControl: "no-store"],
                body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(string: "retry: 1000\n\n"))
                    for _ in 0..<streamSeconds {
                        let now = Int64(Date().timeIntervalSince1970 * 1_000)
                        let frame = String(
                            decoding: try encoder.encode(snapshot(status.read(), rules, at: now)), as: UTF8.self)
                        try await writer.write(ByteBuffer(string: "data: \(frame)\n\n"))
                        try await Task.sleep(for: .seconds(1))
                    }
                    try await writer.finish(nil)
                })
        }
    }

    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }

    static func snapshot(_ status: PipelineStatus, _ rules: AudienceRules, at time: Int64) -> Snapshot {
        func name(_ id: Int?) -> String {
            id.map { status.segmentNames[$0] ?? "Segment \($0) (retired)" } ?? "none"
        }
        let transitions = status.changesByTransition.sorted { $0.value > $1.value }.prefix(12).map {
            Snapshot.Transition(from: name($0.key.from), to: name($0.key.to), count: $0.value)
        }
        return Snapshot(
            at: time, eventsTotal: status.eventsTotal, lag: status.totalLag, outboxPending: status.outboxPending,
            modelVersion: status.modelVersion, changesTotal: status.changesTotal, segments: LiveSegment.list(status),
            transitions: Array(transitions),
            recentChanges: status.recentChanges.reversed().map {
                Snapshot.Change(customerID: $0.customerID, from: $0.from, to: $0.to, cause: $0.cause,
                                at: RFC3339.format($0.at))
            },
            audiences: rules.audiences.map {
                Snapshot.AudienceSize(id: $0.id, name: $0.name, size: status.audiences.sizes[$0.id] ?? 0)
            },
            recentAudienceChanges: Array(AudienceRoutes.recentChanges(status.audiences).prefix(20)),
            backfillRunning: status.audiences.backfillRunning)
    }
}
