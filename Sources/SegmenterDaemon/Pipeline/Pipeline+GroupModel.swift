import Logging
import SegmenterCore
import SegmenterKafka
import SegmenterStore

/// One model for the consumer group (see ``GroupModel``): taking the lead with partition 0, following otherwise,
/// and the leader's publications, which go through the outbox with the batch whose model they are.
extension Pipeline {
    /// At start, before the outbox is published: model rows a crash left undelivered are dropped — whether this
    /// instance still leads is known only once partitions are assigned, and a new lead publishes afresh. Until then
    /// the instance follows: it learns nothing.
    func prepareGroupModel() throws {
        guard let group = groupModel else { return }
        let dropped = try dataDirectory.store.deleteOutbox(topic: group.topic, partition: 0)
        if dropped > 0 {
            logger.info("dropped undelivered model publications from the last run", metadata: [
                "kafka.topic": "\(group.topic)", "model.rows": "\(dropped)",
            ])
        }
        engine.segmentation.setFollowing(true)
        status.update { $0.groupModel = .init(topic: group.topic, role: group.role, leader: nil, adoptions: 0) }
    }

    /// Each loop step: takes the lead when partition 0 was assigned; following, adopts a newer published model.
    /// A read that fails (brokers away) is logged and tried again a few seconds later; the loop goes on meanwhile.
    func stepGroupModel() {
        guard let group = groupModel else { return }
        do {
            if group.takeoverDue {
                guard ContinuousClock.now >= group.retryAt else { return }
                try takeLead(group)
            } else if let record = try group.follow() {
                try adopt(record, group)
            }
        } catch {
            logger.warning("cannot read the model topic; trying again in a few seconds", metadata: [
                "kafka.topic": "\(group.topic)", "error": "\(error)",
            ])
        }
    }

    private func takeLead(_ group: GroupModelSync) throws {
        let found = try group.readForTakeover()
        if let found { try adopt(found, group) }
        engine.segmentation.setFollowing(false)
        try group.lead()
        modelChangedBetweenBatches = true
        logger.info("leading the group's model (this instance owns partition 0)", metadata: [
            "kafka.topic": "\(group.topic)", "model.version": "\(engine.segmentation.version)",
            "model.found_version": "\(found.map { "\($0.version)" } ?? "none")",
        ])
        status.update { $0.groupModel?.role = group.role; $0.groupModel?.leader = group.instanceID }
    }

    private func adopt(_ record: GroupModel.Record, _ group: GroupModelSync) throws {
        guard GroupModel.shouldAdopt(record, own: engine.segmentation, instanceID: group.instanceID) else { return }
        let before = engine.segmentation.version
        do {
            try engine.adopt(record.model, in: &customers)
        } catch let mismatch as SnapshotMismatch {
            let message = "the group's model cannot be used by this instance: every instance of a group must run "
                + "the same features and model.k"
            logger.error("\(message)", metadata: [
                    "kafka.topic": "\(group.topic)", "model.version": "\(record.version)",
                    "model.leader": "\(record.leader)", "error": "\(mismatch)",
                ])
            return
        }
        group.adopted(record)
        takeChanges(trigger: nil)
        modelChangedBetweenBatches = true
        logger.info("adopted the group's model", metadata: [
            "model.version": "\(record.version)", "model.previous_version": "\(before)",
            "model.leader": "\(record.leader)",
        ])
        status.update {
            $0.groupModel?.leader = record.leader
            $0.groupModel?.adoptions += 1
        }
    }

    /// With each batch, while leading: a publication when the version moved or a command changed the model.
    func addGroupModelRow(commandChangedModel: Bool) throws {
        guard let group = groupModel, group.isLeader else { return }
        let segmentation = engine.segmentation
        guard segmentation.kmeans.isInitialised,
              commandChangedModel || segmentation.version != group.publishedVersion
        else { return }
        entries.append(.message(try group.row(for: segmentation, createdAt: Self.wallClock())))
    }

    /// The leader partition was revoked; called after the revoke's last commit (which published the leader's last
    /// model).
    func groupModelRevoked() {
        guard let group = groupModel else { return }
        let wasLeader = group.isLeader
        group.stepDown()
        engine.segmentation.setFollowing(true)
        if wasLeader {
            logger.info("following the group's model (partition 0 moved away)", metadata: [
                "model.version": "\(engine.segmentation.version)",
            ])
        }
        status.update { $0.groupModel?.role = group.role }
    }

    /// Takes the lead at once, inside the assignment, so that no event of partition 0 is applied while following
    /// (with one instance the daemon then learns from every event, as `replay` does); if the model topic cannot be
    /// read, the loop tries again a few seconds later.
    func groupModelAssigned() {
        guard let group = groupModel, !group.isLeader else { return }
        group.takeoverDue = true
        do {
            try takeLead(group)
        } catch {
            logger.warning("cannot read the model topic to take the lead; trying again in a few seconds", metadata: [
                "kafka.topic": "\(group.topic)", "error": "\(error)",
            ])
        }
    }

    /// Model commands go to the leader: a follower's model is replaced by the next publication.
    func refuseModelCommandWhileFollowing() throws {
        guard let group = groupModel, !group.isLeader else { return }
        throw SegmenterError(
            .conflict,
            "this instance follows the group's model (topic \(group.topic)), learned and published by the instance "
                + "that owns partition 0 of \(group.inputTopic)"
                + (group.modelSource.map { " (instance \($0))" } ?? "")
                + ": send model commands to that instance, whose GET /v1/model shows \"role\": \"leader\"")
    }
}
