import Foundation
import Logging
import SegmenterCore
import SegmenterKafka
import SegmenterStore

/// The model topic (DESIGN §7): one model for the whole consumer group. The instance that owns partition 0 of the
/// input topic is the *leader*: it learns as a single instance does and publishes its model, through the outbox,
/// whenever the version moves or an operator changes it. The others *follow*: they adopt each published model and
/// learn nothing, so every instance assigns with the same model version, which every change event carries.
/// Leadership moves with partition 0: the new owner first adopts the newest published model, then learns on from it.
///
/// Records are JSON under one key (`model`), so compaction keeps the newest; only partition 0 is used. A reader
/// takes the newest record, so a cluster that does not compact (the embedded broker) gives the same answer.
enum GroupModel {
    static let key: [UInt8] = Array("model".utf8)
    static let format = "segmenter.group-model/1"
    /// Topic settings asked for at creation.
    static let topicConfigs = ["cleanup.policy": "compact"]

    static func defaultTopic(groupID: String, inputTopic: String) -> String {
        "\(groupID)-\(inputTopic)-model"
    }

    /// One published model.
    struct Record: Codable, Equatable {
        var format = GroupModel.format
        var version: Int64
        /// The publishing instance's id (its data directory's `instance_id`).
        var leader: String
        /// Wall clock (epoch ms) at publication.
        var publishedAt: Int64
        var model: SegmentationSnapshot

        private enum CodingKeys: String, CodingKey {
            case format, version, leader, model
            case publishedAt = "published_at"
        }
    }

    static func encode(_ record: Record) throws -> [UInt8] {
        Array(try SegmentationSnapshot.jsonEncoder().encode(record))
    }

    /// The record in `value`, or nil when it is not one this release reads.
    static func decode(_ value: [UInt8]) -> Record? {
        guard let record = try? SegmentationSnapshot.jsonDecoder().decode(Record.self, from: Data(value)),
              record.format == format
        else { return nil }
        return record
    }

    /// Whether an instance whose model is `own` takes the published `record`: any model when it has none; otherwise
    /// one at least as new, except its own publication of the version it holds (it has learned past it since).
    /// Taking an equal version from another leader settles the one case where two models carry a number: a leader
    /// that died before its last version reached the topic, whose successor published that number again.
    static func shouldAdopt(_ record: Record, own: Segmentation, instanceID: String) -> Bool {
        guard !record.model.centers.isEmpty else { return false }
        guard own.kmeans.isInitialised else { return true }
        if record.version > own.version { return true }
        return record.version == own.version && record.leader != instanceID
    }
}

/// The pipeline's part that keeps the model topic: where this instance stands (leader or follower), what it last
/// published, and a reader that follows the topic's partition 0.
final class GroupModelSync {
    let topic: String
    let inputTopic: String
    let instanceID: String
    private let reader: any PartitionLog
    /// True from taking the lead until partition 0 is revoked.
    private(set) var isLeader = false
    /// Set when partition 0 was assigned: the next loop step takes the lead.
    var takeoverDue = false
    /// The version last queued for publication, or found on the topic when taking the lead.
    private(set) var publishedVersion: Int64?
    /// Who published the model in use (this instance while leading); nil before any.
    private(set) var modelSource: String?
    /// The next offset to read while following; nil: read the newest record first.
    private var position: Int64?
    private var nextPoll = ContinuousClock.now
    /// After a failed read, when to try again.
    private(set) var retryAt = ContinuousClock.now
    static let readTimeout = Duration.seconds(2)
    static let pollInterval = Duration.milliseconds(200)
    static let retryInterval = Duration.seconds(5)

    init(topic: String, inputTopic: String, instanceID: String, reader: any PartitionLog) {
        self.topic = topic
        self.inputTopic = inputTopic
        self.instanceID = instanceID
        self.reader = reader
    }

    /// At shutdown, before the brokers may go: the reader leaves the cluster.
    func close() {
        reader.close()
    }

    private var place: TopicPartition { TopicPartition(topic: topic, partition: 0) }

    var leaderPartition: TopicPartition { TopicPartition(topic: inputTopic, partition: 0) }

    var role: String { isLeader ? "leader" : "follower" }

    /// The newest readable record of the topic, and the offset after the end. Malformed records are passed over.
    func latest() throws -> (record: Record?, end: Int64) {
        let (record, end) = try reader.searchBack(place, window: 8, timeout: Self.readTimeout) { messages in
            messages.reversed().lazy.compactMap { GroupModel.decode($0.value) }.first
        }
        return (record, end)
    }

    typealias Record = GroupModel.Record

    /// Following: the newest record published since the last call (at the first call, the newest on the topic).
    /// Cheap between records: a poll of what librdkafka already fetched, at most every ``pollInterval``.
    func follow(now: ContinuousClock.Instant = .now) throws -> Record? {
        guard !isLeader, now >= nextPoll, now >= retryAt else { return nil }
        nextPoll = now + Self.pollInterval
        do {
            guard let position else {
                let (record, end) = try latest()
                try reader.assign([place: end])
                self.position = end
                return record
            }
            var newest: Record?
            var next = position
            try reader.fetch(max: 256, timeout: .zero) { message in
                next = message.offset + 1
                if let record = GroupModel.decode(message.value) { newest = record }
            }
            self.position = next
            return newest
        } catch {
            retryAt = now + Self.retryInterval
            throw error
        }
    }

    /// The newest published record, read to take the lead; a failure leaves ``takeoverDue`` set for a later try.
    func readForTakeover(now: ContinuousClock.Instant = .now) throws -> Record? {
        do {
            return try latest().record
        } catch {
            retryAt = now + Self.retryInterval
            throw error
        }
    }

    func adopted(_ record: Record) {
        modelSource = record.leader
    }

    /// Starts leading. The next batch publishes the model under this instance's id, whatever its version: the
    /// followers learn who leads, and take the model the new leader goes on from.
    func lead() throws {
        takeoverDue = false
        isLeader = true
        publishedVersion = nil
        modelSource = instanceID
        position = nil
        try reader.assign([:])
    }

    /// Stops leading (partition 0 was revoked): the next step reads the newest record again.
    func stepDown() {
        isLeader = false
        takeoverDue = false
        position = nil
        nextPoll = .now
    }

    /// The outbox row that publishes `segmentation`'s model; remembers its version as published.
    func row(for segmentation: Segmentation, createdAt: Int64) throws -> OutboxMessage {
        publishedVersion = segmentation.version
        let record = Record(
            version: segmentation.version, leader: instanceID, publishedAt: createdAt,
            model: segmentation.sharedSnapshot())
        return OutboxMessage(
            eventID: "model:\(segmentation.version):\(instanceID):\(createdAt)", customerID: "", partition: 0,
            topic: topic, key: GroupModel.key, payload: try GroupModel.encode(record), createdAt: createdAt)
    }
}
