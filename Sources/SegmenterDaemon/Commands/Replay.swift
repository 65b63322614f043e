import Foundation
import SegmenterCore

/// `segmenter replay`: runs the ``SegmentationEngine`` the daemon runs over a file of events in file order, with
/// the customers in memory, for backfills, tuning and evaluation. The changes are the daemon's for the same events
/// in one partition. Bad lines are counted and the first few kept with line numbers; they never stop the run.
public final class Replay {
    public struct Options: Sendable {
        public var input: String
        public var segmentation: SegmentationConfiguration
        public var maxMessageBytes: Int
        /// Decode every line first and time the core separately (benchmark mode).
        public var preDecode: Bool
        /// Rule audiences and computed traits (the `audiences` and `traits` sections). Default: none.
        public var audiences = AudienceRules.none
        /// A → B → A within this many days of event time counts as a flap. Default: 7.
        public var flapWindowDays = 7.0

        public init(input: String, segmentation: SegmentationConfiguration, maxMessageBytes: Int = 65_536,
                    preDecode: Bool = false) {
            self.input = input
            self.segmentation = segmentation
            self.maxMessageBytes = maxMessageBytes
            self.preDecode = preDecode
        }
    }

    public struct BadLine: Sendable {
        public var line: Int
        public var reason: EventRejection
    }

    public struct Summary: Sendable {
        public var lines = 0
        public var applied = 0
        public var duplicates = 0
        /// Well-formed lines that carry no behaviour (Segment `identify`, `alias`, `group`).
        public var skipped = 0
        public var invalid = 0
        public var invalidByReason: [String: Int] = [:]
        public var firstBadLines: [BadLine] = []
        public var changes = 0
        /// Changes A → B → A within ``Options/flapWindowDays``.
        public var flaps = 0
        public var audienceChanges = 0
        /// Wall-clock seconds for the whole run (reading, decoding, core).
        public var seconds = 0.0
        /// In pre-decode mode: seconds spent decoding, and in the core alone.
        public var decodeSeconds: Double?
        public var coreSeconds: Double?
    }

    public private(set) var engine: SegmentationEngine
    private var directory = InMemoryCustomers()
    private var flapCounter: FlapCounter
    /// Identity merges: replay applies each identity record right after the message that produced it, in the order
    /// they were produced (the daemon applies them when they come back from Kafka; see `SegmentationEngine+Identity`).
    public private(set) var identities = IdentityMap()
    private let native = EventDecoder(format: .native)
    private let options: Options
    private let onChange: (SegmentChange) throws -> Void
    /// Receives every Audience Entered / Exited event in order (to write `--audience-changes-out`).
    public var onAudienceChange: (AudienceChange) throws -> Void = { _ in }

    public var segmentation: Segmentation { engine.segmentation }
    /// Customers in first-seen order.
    public var customers: [CustomerRecord] { directory.records }

    /// `onChange` receives every change in order (to write `--changes-out`).
    public init(options: Options, onChange: @escaping (SegmentChange) throws -> Void = { _ in }) {
        self.options = options
        engine = SegmentationEngine(segmentation: Segmentation(configuration: options.segmentation))
        engine.audiences = options.audiences
        self.onChange = onChange
        flapCounter = FlapCounter(windowDays: options.flapWindowDays)
    }

    public func run() throws -> Summary {
        var summary = Summary()
        let decoder = EventDecoder(maxMessageBytes: options.maxMessageBytes, format: options.segmentation.inputFormat)
        let reader = try LineReader(path: options.input)
        let start = ContinuousClock.now
        func reject(_ rejection: EventRejection, line: Int) {
            guard rejection.isDeadLetter else {
                summary.skipped += 1
                return
            }
            summary.invalid += 1
            summary.invalidByReason[rejection.code.rawValue, default: 0] += 1
            if summary.firstBadLines.count < 10 {
                summary.firstBadLines.append(BadLine(line: line, reason: rejection))
            }
        }
        if options.preDecode {
            var events: [Event] = []
            /// Identity ties, by the index of the event they come before.
            var ties: [(before: Int, tie: IdentityTie)] = []
            try reader.forEachLine { bytes, line in
                summary.lines += 1
                if Self.isBlank(bytes) || IdentityRecord.isRecord(bytes) { return }
                switch decoder.decode(bytes) {
                case .success(let event): events.append(event)
                case .failure(let rejection):
                    if !rejection.isDeadLetter, let tie = IdentityTie.segmentCall(bytes) {
                        ties.append((events.count, tie))
                    }
                    reject(rejection, line: line)
                }
            }
            let decoded = ContinuousClock.now
            var nextTie = 0
            for (index, event) in events.enumerated() {
                while nextTie < ties.count, ties[nextTie].before == index {
                    try process(ties[nextTie].tie, &summary)
                    nextTie += 1
                }
                try process(event, &summary)
            }
            for (_, tie) in ties[nextTie...] { try process(tie, &summary) }
            try finish(&summary)
            summary.decodeSeconds = (decoded - start).seconds
            summary.coreSeconds = (ContinuousClock.now - decoded).seconds
        } else {
            try reader.forEachLine { bytes, line in
                summary.lines += 1
                if Self.isBlank(bytes) || IdentityRecord.isRecord(bytes) { return }
                switch decoder.decode(bytes) {
                case .success(let event): try process(event, &summary)
                case .failure(let rejection):
                    if !rejection.isDeadLetter, let tie = IdentityTie.segmentCall(bytes) { try process(tie, &summary) }
                    reject(rejection, line: line)
                }
            }
            try finish(&summary)
        }
        summary.seconds = (ContinuousClock.now - start).seconds
        return summary
    }

    /// Every customer as `segmenter export --format ndjson` writes them (the same encoder, the same order: by
    /// customer id in byte order), one line each with its newline, for `--customers-out`.
    public func writeCustomers(_ write: (String) throws -> Void) throws {
        let segmentation = engine.segmentation
        for record in directory.records.sorted(by: { $0.customerID.precedesInByteOrder($1.customerID) }) {
            try write(segmentation.exportLine(
                customerID: record.customerID, segmentID: record.segmentID, eventCount: record.eventCount,
                state: record.state) + "\n")
        }
    }

    private static func isBlank(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.allSatisfy { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
    }

    private func process(_ event: Event, _ summary: inout Summary) throws {
        if try engine.apply(event, partition: 0, in: &directory, identities: &identities) {
            summary.applied += 1
        } else {
            summary.duplicates += 1
        }
        try emitChanges(&summary)
        try applyIdentityRecords(&summary)
    }

    private func process(_ tie: IdentityTie, _ summary: inout Summary) throws {
        engine.tie(tie, identities: &identities)
        try applyIdentityRecords(&summary)
    }

    /// Applies the identity records the engine produced, each right after the message that produced it.
    private func applyIdentityRecords(_ summary: inout Summary) throws {
        // The records a record produces queue behind the ones already waiting, as they would on the topic.
        var queue: [IdentityRecord] = []
        engine.takeIdentityRecords { queue.append($0) }
        var next = 0
        while next < queue.count {
            try engine.apply(queue[next], partition: 0, in: &directory, identities: &identities) { line in
                try? native.decode(Array(line.utf8)).get()
            }
            next += 1
            engine.takeIdentityRecords { queue.append($0) }
            try emitChanges(&summary)
        }
    }

    private func finish(_ summary: inout Summary) throws {
        try engine.finish(in: &directory)
        try emitChanges(&summary)
    }

    private func emitChanges(_ summary: inout Summary) throws {
        guard engine.hasChanges else { return }
        try engine.takeChanges { change in
            summary.changes += 1
            flapCounter.observe(change)
            summary.flaps = flapCounter.flaps
            try onChange(change)
        }
        try engine.takeAudienceChanges { change in
            summary.audienceChanges += 1
            try onAudienceChange(change)
        }
    }
}
