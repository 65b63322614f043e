import Foundation
import SegmenterCore

/// `segmenter replay`: runs the core over a file of events in file order through the same engine the daemon
/// drives (decode → apply → standardise → assign → learn, with the same round-robin re-evaluation), for
/// backfills, tuning and evaluation. Bad lines are counted and the first few kept with line numbers; they never
/// stop the run.
public final class Replay {
    public struct Options: Sendable {
        public var input: String
        public var segmentation: SegmentationConfiguration
        public var maxMessageBytes: Int
        /// Decode every line first and time the core separately (benchmark mode).
        public var preDecode: Bool
        /// Events per batch: at each batch end, as in the daemon, quiet customers are re-evaluated round robin,
        /// due timers fire and the touched customers' next timers are computed. Default: 5,000 (the daemon's
        /// default `store.batch_size`).
        public var batchSize: Int

        public init(input: String, segmentation: SegmentationConfiguration, maxMessageBytes: Int = 65_536,
                    preDecode: Bool = false, batchSize: Int = 5_000) {
            self.input = input
            self.segmentation = segmentation
            self.maxMessageBytes = maxMessageBytes
            self.preDecode = preDecode
            self.batchSize = batchSize
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
        public var invalid = 0
        public var invalidByReason: [String: Int] = [:]
        public var firstBadLines: [BadLine] = []
        public var changes = 0
        /// Wall-clock seconds for the whole run (reading, decoding, core).
        public var seconds = 0.0
        /// In pre-decode mode: seconds spent decoding, and in the core alone.
        public var decodeSeconds: Double?
        public var coreSeconds: Double?
    }

    public private(set) var segmentation: Segmentation
    /// Customers in first-seen order (the round-robin order of re-evaluation).
    public private(set) var customers: [CustomerRecord] = []
    private var index: [String: Int] = [:]
    private var reevaluationBudget = 0.0
    private var cursor = 0
    private var batchEvents = 0
    private var touched: Set<Int> = []
    private var timers = TimeOrderedQueue()
    private let options: Options
    private let onChange: (SegmentChange) throws -> Void

    /// `onChange` receives every change in order (to write `--changes-out`).
    public init(options: Options, onChange: @escaping (SegmentChange) throws -> Void = { _ in }) {
        self.options = options
        self.segmentation = Segmentation(configuration: options.segmentation)
        self.onChange = onChange
    }

    public func run() throws -> Summary {
        var summary = Summary()
        let decoder = EventDecoder(maxMessageBytes: options.maxMessageBytes, format: options.segmentation.inputFormat)
        let reader = try LineReader(path: options.input)
        let start = ContinuousClock.now
        func reject(_ rejection: EventRejection, line: Int) {
            summary.invalid += 1
            summary.invalidByReason[rejection.code.rawValue, default: 0] += 1
            if summary.firstBadLines.count < 10 {
                summary.firstBadLines.append(BadLine(line: line, reason: rejection))
            }
        }
        if options.preDecode {
            var events: [Event] = []
            try reader.forEachLine { bytes, line in
                summary.lines += 1
                if Self.isBlank(bytes) { return }
                switch decoder.decode(bytes) {
                case .success(let event): events.append(event)
                case .failure(let rejection): reject(rejection, line: line)
                }
            }
            let decoded = ContinuousClock.now
            for event in events {
                try process(event, &summary)
            }
            try finish(&summary)
            summary.decodeSeconds = (decoded - start).seconds
            summary.coreSeconds = (ContinuousClock.now - decoded).seconds
        } else {
            try reader.forEachLine { bytes, line in
                summary.lines += 1
                if Self.isBlank(bytes) { return }
                switch decoder.decode(bytes) {
                case .success(let event): try process(event, &summary)
                case .failure(let rejection): reject(rejection, line: line)
                }
            }
            try finish(&summary)
        }
        summary.seconds = (ContinuousClock.now - start).seconds
        return summary
    }

    private static func isBlank(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.allSatisfy { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
    }

    private func process(_ event: Event, _ summary: inout Summary) throws {
        let position: Int
        if let known = index[event.customerID] {
            position = known
        } else {
            position = customers.count
            index[event.customerID] = position
            customers.append(segmentation.newRecord(customerID: event.customerID, partition: 0))
        }
        switch segmentation.apply(event, to: &customers[position]) {
        case .duplicate:
            summary.duplicates += 1
        case .applied(let change, let initialised):
            summary.applied += 1
            touched.insert(position)
            if let change { try emit(change, &summary) }
            if initialised { try assignPending(&summary) }
            reevaluationBudget += segmentation.configuration.reevaluationsPerEvent
            batchEvents += 1
            if batchEvents >= options.batchSize { try endBatch(&summary) }
        }
    }

    /// What the daemon does before each commit: round-robin re-evaluation, due timers, next timers.
    private func endBatch(_ summary: inout Summary) throws {
        batchEvents = 0
        try reevaluateRoundRobin(&summary)
        try fireTimers(&summary)
        for position in touched.sorted() {
            let before = customers[position].timerDueAt
            segmentation.refreshTimer(&customers[position])
            if let due = customers[position].timerDueAt, due != before { timers.push(time: due, index: position) }
        }
        touched.removeAll(keepingCapacity: true)
    }

    private func fireTimers(_ summary: inout Summary) throws {
        while let next = timers.first, next.time <= segmentation.watermark {
            _ = timers.pop()
            guard customers[next.index].timerDueAt == next.time else { continue }
            customers[next.index].timerDueAt = nil
            if let change = segmentation.reevaluate(&customers[next.index], cause: .timer, learn: false) {
                try emit(change, &summary)
            }
            touched.insert(next.index)
        }
    }

    private func assignPending(_ summary: inout Summary) throws {
        for id in segmentation.pendingCustomers {
            guard let position = index[id],
                  let change = segmentation.reevaluate(&customers[position], cause: .model, learn: false)
            else { continue }
            touched.insert(position)
            try emit(change, &summary)
        }
        segmentation.pendingCustomers.removeAll()
    }

    private func reevaluateRoundRobin(_ summary: inout Summary) throws {
        guard segmentation.kmeans.isInitialised else {
            reevaluationBudget = 0
            return
        }
        while reevaluationBudget >= 1 {
            reevaluationBudget -= 1
            cursor = cursor >= customers.count - 1 ? 0 : cursor + 1
            if let change = segmentation.reevaluate(&customers[cursor], learn: true) {
                touched.insert(cursor)
                try emit(change, &summary)
            }
        }
    }

    private func finish(_ summary: inout Summary) throws {
        if segmentation.initialiseEarly() {
            try assignPending(&summary)
        }
        try endBatch(&summary)
    }

    private func emit(_ change: SegmentChange, _ summary: inout Summary) throws {
        summary.changes += 1
        try onChange(change)
    }
}
