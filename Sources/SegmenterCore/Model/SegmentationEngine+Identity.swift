/// Identity merges (issue 18), decided by the engine so that replay and the daemon merge alike. The two ids may live
/// in different partitions, so every step is a message to the owner of the id it is about (``IdentityRecord``):
///
/// 1. The owner of the known id `k` applies an event that also names an anonymous id `a` (Segment `anonymousId`,
///    GA4 `user_pseudo_id`, Snowplow `domain_userid`); the first time it sees the tie it links `a → k` (requested)
///    and sends a merge request keyed by `a`.
/// 2. The owner of `a` ends `a`'s chain (a last change, `segment` null, cause merge, `merged_into` k), removes `a`,
///    links `a → k` (sent) and sends `a`'s state keyed by `k`. From then on events under `a` are forwarded to `k`.
/// 3. The owner of `k` merges the state in once (a repeated copy finds the link applied), with one change of cause
///    merge and `merged_from` a. If `k` was itself merged away meanwhile, the state travels on (chains a → b → c).
///
/// The daemon produces the records through the outbox and applies them when they come back from Kafka; replay
/// applies each record right after the message that produced it, in the order they were produced.
extension SegmentationEngine {
    /// ``apply(_:partition:in:)`` with identities: an event for a merged-away id is forwarded (and counts as
    /// applied here), an event that ties an anonymous id to its customer starts a merge.
    @discardableResult
    public mutating func apply<D: CustomerDirectory>(
        _ event: Event, partition: Int32, in directory: inout D, identities: inout IdentityMap
    ) throws -> Bool {
        if let target = identities.target(of: event.customerID) {
            var forwarded = event
            forwarded.customerID = target
            forwarded.anonymousID = nil
            identityRecords.append(IdentityRecord(
                kind: .forward, anonymousID: event.customerID, knownID: target, at: event.timestamp,
                event: forwarded.jsonLine()))
            return true
        }
        let applied = try apply(event, partition: partition, in: &directory)
        if let anonymous = event.anonymousID, anonymous != event.customerID {
            tie(IdentityTie(anonymousID: anonymous, knownID: event.customerID, at: event.timestamp),
                identities: &identities)
        }
        return applied
    }

    /// The first time the known id's owner sees `tie` (an event naming both ids, or a Segment `identify` or
    /// `alias` call), it links the ids and asks the anonymous id's owner for its state.
    public mutating func tie(_ tie: IdentityTie, identities: inout IdentityMap) {
        guard identities.link(tie.anonymousID) == nil, identities.link(tie.knownID)?.knownID != tie.anonymousID
        else { return }
        identities.set(tie.anonymousID, .init(knownID: tie.knownID, state: .requested, linkedAt: tie.at))
        identityRecords.append(IdentityRecord(
            kind: .mergeRequest, anonymousID: tie.anonymousID, knownID: tie.knownID, at: tie.at))
    }

    /// Applies an identity record that reached the owner of ``IdentityRecord/key``. `decode` reads a forwarded
    /// event's line (the caller's native decoder). Returns false for a record that changed nothing (a duplicate, a
    /// conflicting second tie, an unreadable forward).
    @discardableResult
    public mutating func apply<D: CustomerDirectory>(
        _ record: IdentityRecord, partition: Int32, in directory: inout D, identities: inout IdentityMap,
        decode: (String) -> Event?
    ) throws -> Bool {
        switch record.kind {
        case .mergeRequest:
            let a = record.anonymousID, k = record.knownID
            if let link = identities.link(a), link.state != .requested || link.knownID != k { return false }
            identities.set(a, .init(knownID: k, state: .sent, linkedAt: record.at))
            guard let anonymous = try directory.record(a) else { return true }
            end(anonymous, cause: .merge, audienceCause: .merge, mergedInto: k)
            try directory.remove(a)
            progress.touched.remove(a)
            segmentation.pendingCustomers.removeAll { $0 == a }
            identityRecords.append(IdentityRecord(
                kind: .mergeState, anonymousID: a, knownID: k, at: record.at, eventCount: anonymous.eventCount,
                state: .init(anonymous.state.encoded(layout: segmentation.layout))))
            return true
        case .mergeState:
            if let target = identities.target(of: record.knownID) {
                var onward = record
                onward.knownID = target
                identityRecords.append(onward)
                return true
            }
            if identities.link(record.anonymousID)?.state == .applied { return false }
            guard let bytes = record.state,
                  let state = try? CustomerState(encoded: Array(bytes), layout: segmentation.layout)
            else { return false }
            identities.set(
                record.anonymousID, .init(knownID: record.knownID, state: .applied, linkedAt: record.at))
            let change = try withCustomer(record.knownID, partition: partition, in: &directory) { known, engine in
                let change = engine.segmentation.merge(
                    state, eventCount: record.eventCount ?? 0, from: record.anonymousID, into: &known)
                engine.evaluateAudiences(&known, cause: .merge)
                return change
            }
            progress.touched.insert(record.knownID)
            if let change { changes.append(change) }
            return true
        case .forward:
            guard let line = record.event, let event = decode(line) else { return false }
            return try apply(event, partition: partition, in: &directory, identities: &identities)
        }
    }

    /// Hands every identity record produced since the last call to `body`, in order, and forgets them.
    public mutating func takeIdentityRecords(_ body: (IdentityRecord) throws -> Void) rethrows {
        guard !identityRecords.isEmpty else { return }
        let records = identityRecords
        identityRecords.removeAll(keepingCapacity: true)
        for record in records { try body(record) }
    }
}
