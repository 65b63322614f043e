/// The console's "sizes over time": the live segments' sizes sampled from the start of the HTTP server, at most
/// `capacity` samples. When it is full every other sample is dropped and the spacing doubles, so the series always
/// spans the whole run at a bounded cost (360 samples: six minutes at one a second, then twelve at one every two
/// seconds, …) — a page opened an hour in still shows how the segments grew. Times are passed in (epoch
/// milliseconds), so the series is tested without a clock.
struct SegmentSizeSeries: Sendable, Equatable {
    /// One segment's size in a sample.
    struct Size: Encodable, Equatable, Sendable {
        var id: Int
        var size: Int64
    }

    /// The live segments at one moment.
    struct Sample: Encodable, Equatable, Sendable {
        /// Wall-clock time, epoch milliseconds.
        var at: Int64
        var sizes: [Size]
    }

    let capacity: Int
    /// The least time between two kept samples; doubles each time the series is thinned.
    private(set) var spacingMilliseconds: Int64
    private(set) var samples: [Sample] = []

    init(capacity: Int = 360, spacingMilliseconds: Int64 = 1_000) {
        precondition(capacity >= 2 && spacingMilliseconds > 0, "a series needs room for two samples and a spacing")
        self.capacity = capacity
        self.spacingMilliseconds = spacingMilliseconds
    }

    /// Adds the sizes at `time`, unless the last kept sample is less than the spacing older (a wall clock that
    /// steps back is ignored until it passes the last sample).
    mutating func record(_ segments: [LiveSegment], at time: Int64) {
        if let last = samples.last, time - last.at < spacingMilliseconds { return }
        samples.append(Sample(at: time, sizes: segments.map { Size(id: $0.id, size: $0.size) }))
        guard samples.count > capacity else { return }
        // Keep the newest sample and every other one before it: the series must always end at "now".
        samples = stride(from: samples.count - 1, through: 0, by: -2).reversed().map { samples[$0] }
        spacingMilliseconds *= 2
    }
}
