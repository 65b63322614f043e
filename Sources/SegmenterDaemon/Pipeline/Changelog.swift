import SegmenterCore
import SegmenterKafka
import SegmenterStore

/// The changelog topic (DESIGN §7): every committed customer state, keyed by customer id, in the partition of the
/// same number as its input partition, so that a partition's next owner can rebuild its customers from Kafka. It is
/// written through the outbox, after the store, never ahead of it.
///
/// Each batch writes, per input partition it moved, its changed customers and then a *marker* (a reserved key) with
/// the partition's next input offset and the writing instance's id. Every record carries the offset of its batch in
/// the `segmenter.offset` header. A restore takes the latest value per key whose batch offset is at most the last
/// marker's: records after the last marker belong to a batch whose writer stopped before finishing it, and are
/// left out (the restorer writes its own value for those keys, so they are settled for the next restore too).
enum Changelog {
    /// The marker's key: a customer id is never empty and never starts with a NUL byte.
    static let markerKey: [UInt8] = Array("\u{0}segmenter.next_offset".utf8)
    static let offsetHeader = "segmenter.offset"
    /// Topic settings asked for at creation: compaction, and no compaction of records younger than an hour, so that
    /// a restore after a crash still finds the values that an unfinished batch had begun to overwrite.
    static let topicConfigs = ["cleanup.policy": "compact", "min.compaction.lag.ms": "3600000"]

    static func defaultTopic(groupID: String, inputTopic: String) -> String {
        "\(groupID)-\(inputTopic)-changelog"
    }

    /// The last word of a writer on a partition: where its state stands.
    struct Marker: Equatable {
        var nextOffset: Int64
        var writer: String
    }

    static func record(_ customer: StoredCustomer, batchOffset: Int64, serial: Int64, topic: String, createdAt: Int64)
        -> OutboxMessage
    {
        OutboxMessage(
            eventID: "changelog:\(serial):\(customer.customerID)", customerID: customer.customerID,
            partition: customer.partition, topic: topic, key: Array(customer.customerID.utf8),
            payload: encode(customer), headers: [(offsetHeader, Array(String(batchOffset).utf8))], createdAt: createdAt)
    }

    static func marker(_ marker: Marker, partition: Int32, serial: Int64, topic: String, createdAt: Int64)
        -> OutboxMessage
    {
        OutboxMessage(
            eventID: "changelog:\(serial):marker:\(partition)", customerID: "", partition: partition, topic: topic,
            key: markerKey, payload: Array("\(marker.nextOffset) \(marker.writer)".utf8),
            headers: [(offsetHeader, Array(String(marker.nextOffset).utf8))], createdAt: createdAt)
    }

    static func decodeMarker(_ value: [UInt8]) -> Marker? {
        let text = String(decoding: value, as: UTF8.self)
        guard let space = text.firstIndex(of: " "), let offset = Int64(text[..<space]) else { return nil }
        return Marker(nextOffset: offset, writer: String(text[text.index(after: space)...]))
    }

    static func batchOffset(_ headers: [KafkaHeader]) -> Int64? {
        headers.last { $0.key == offsetHeader }?.value.flatMap { Int64(String(decoding: $0, as: UTF8.self)) }
    }

    // MARK: the stored customer as bytes

    private static let formatVersion: UInt8 = 1

    static func encode(_ c: StoredCustomer) -> [UInt8] {
        var w = ByteWriter(capacity: c.state.count + (c.audiences?.count ?? 0) + 64)
        w.write(formatVersion)
        w.write(c.partition)
        w.write(Int64(c.segmentID ?? -1))
        w.write(c.segmentSince ?? Int64.min)
        w.write(c.transitionSeq)
        w.write(c.eventCount)
        w.write(c.lastEventAt)
        w.write(c.timerDueAt ?? Int64.min)
        w.write(UInt32(c.state.count))
        w.bytes.append(contentsOf: c.state)
        if let audiences = c.audiences {
            w.write(UInt32(audiences.count))
            w.bytes.append(contentsOf: audiences)
        } else {
            w.write(UInt32.max)
        }
        w.write(c.ordinal)
        return w.bytes
    }

    static func decode(_ bytes: [UInt8], customerID: String) -> StoredCustomer? {
        var r = ByteReader(bytes)
        guard r.read(UInt8.self) == formatVersion, let partition = r.read(Int32.self),
              let segment = r.read(Int64.self), let since = r.read(Int64.self), let seq = r.read(Int64.self),
              let count = r.read(Int64.self), let last = r.read(Int64.self), let due = r.read(Int64.self),
              let stateLength = r.read(UInt32.self), let state = r.readBytes(Int(stateLength)),
              let audiencesLength = r.read(UInt32.self)
        else { return nil }
        var audiences: [UInt8]?
        if audiencesLength != UInt32.max {
            guard let bytes = r.readBytes(Int(audiencesLength)) else { return nil }
            audiences = bytes
        }
        // Records written before walks followed ordinals end here; their customers walk first.
        let ordinal = r.isAtEnd ? 0 : r.read(Int64.self)
        guard let ordinal, r.isAtEnd else { return nil }
        return StoredCustomer(
            customerID: customerID, partition: partition, state: state, segmentID: segment < 0 ? nil : Int(segment),
            segmentSince: since == Int64.min ? nil : since, transitionSeq: seq, eventCount: count, lastEventAt: last,
            timerDueAt: due == Int64.min ? nil : due, audiences: audiences, ordinal: ordinal,
            sampleLevel: CustomerSample.level(of: customerID))
    }
}

/// Rebuilds one partition's customers from its changelog: fed the partition's records in offset order, it keeps
/// the latest value per key and the last marker, and at the end answers what to store. Pure: tested without Kafka.
struct ChangelogRestore {
    let partition: TopicPartition
    /// The changelog offset the restore reads up to (exclusive): the partition's end when the restore began.
    let end: Int64
    let started: ContinuousClock.Instant
    private(set) var position: Int64
    /// Per key, its newest record, and the newest record of an earlier batch (what stands if the newest one's batch
    /// turns out unfinished).
    private var latest: [String: (newest: Entry, earlier: Entry?)] = [:]
    private(set) var marker: Marker?
    private(set) var malformed = 0

    typealias Marker = Changelog.Marker
    /// A value (empty: a tombstone) and the offset of the batch that wrote it.
    typealias Entry = (value: [UInt8], batchOffset: Int64)

    init(partition: TopicPartition, from start: Int64, end: Int64, started: ContinuousClock.Instant = .now) {
        self.partition = partition
        self.end = end
        self.started = started
        position = start
    }

    var isComplete: Bool { position >= end }
    var remaining: Int64 { max(0, end - position) }

    mutating func add(_ message: KafkaMessage) {
        guard message.offset >= position, message.offset < end else { return }
        position = message.offset + 1
        guard let key = message.key else {
            malformed += 1
            return
        }
        if key == Changelog.markerKey {
            guard let next = Changelog.decodeMarker(message.value) else {
                malformed += 1
                return
            }
            // A writer's last word supersedes its predecessors'; a lower offset would be a stale re-send.
            if marker.map({ next.nextOffset >= $0.nextOffset }) ?? true { marker = next }
            return
        }
        let id = String(decoding: key, as: UTF8.self)
        guard let offset = Changelog.batchOffset(message.headers) else {
            malformed += 1
            return
        }
        let entry = (message.value, offset)
        if let known = latest[id] {
            latest[id] = (entry, offset > known.newest.batchOffset ? known.newest : known.earlier)
        } else {
            latest[id] = (entry, nil)
        }
    }

    /// What the restore found: the customers to store, the next input offset to resume from (nil: the changelog
    /// has no marker, so nothing was ever committed through it), and the ids whose newest record came after the last
    /// marker — an unfinished batch — which the restorer must settle by writing the value that stands for them (the
    /// one in `customers`, or a tombstone when there is none).
    func result() -> (customers: [StoredCustomer], nextOffset: Int64?, unsettled: [String]) {
        guard let marker else { return ([], nil, latest.keys.sorted()) }
        var customers: [StoredCustomer] = []
        var unsettled: [String] = []
        customers.reserveCapacity(latest.count)
        for (id, entry) in latest {
            var standing: Entry? = entry.newest
            if entry.newest.batchOffset > marker.nextOffset {
                unsettled.append(id)
                standing = entry.earlier.flatMap { $0.batchOffset <= marker.nextOffset ? $0 : nil }
            }
            guard let standing, !standing.value.isEmpty else { continue }
            if let customer = Changelog.decode(standing.value, customerID: id) { customers.append(customer) }
        }
        customers.sort { $0.customerID.precedesInByteOrder($1.customerID) }
        return (customers, marker.nextOffset, unsettled.sorted())
    }
}
