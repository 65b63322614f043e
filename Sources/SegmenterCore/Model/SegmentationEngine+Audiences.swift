/// Where the engine hands customers to its ``AudienceRules`` (issue 16): after every applied event, after every
/// move a tick makes (timers, re-evaluation, first assignments) and when a tick sets a customer's next timer. The
/// audience changes come out in order beside the segment changes, so they share the engine's determinism.
extension SegmentationEngine {
    /// Hands every audience change produced since the last call to `body`, in order, and forgets them.
    public mutating func takeAudienceChanges(_ body: (AudienceChange) throws -> Void) rethrows {
        guard !audienceChanges.isEmpty else { return }
        defer { audienceChanges.removeAll(keepingCapacity: true) }
        for change in audienceChanges { try body(change) }
    }

    /// Traits, then membership, after `event` was applied to `record`. The event counts at its own time unless it
    /// was ahead of the watermark (then it was applied at the watermark).
    mutating func observeAudiences(_ event: Event, _ record: inout CustomerRecord) {
        guard !audiences.isEmpty else { return }
        let time = min(event.timestamp, segmentation.watermark)
        audiences.observe(event, at: time, into: &record.audiences)
        audiences.evaluate(&record, segmentation: segmentation, cause: .event, at: time, into: &audienceChanges)
    }

    /// Membership after a move that no event of the customer caused.
    mutating func evaluateAudiences(_ record: inout CustomerRecord, cause: AudienceChange.Cause) {
        guard !audiences.isEmpty else { return }
        audiences.evaluate(
            &record, segmentation: segmentation, cause: cause, at: segmentation.watermark, into: &audienceChanges)
    }

    /// The segment timer (``Segmentation/refreshTimer(_:)``), then brought forward to the next time ageing may
    /// change an audience's answer. The two share the customer's one timer; the segment's own due time is kept
    /// aside, so that an audience timer never hides a segment timer that a new event made due earlier.
    mutating func refreshTimers(_ record: inout CustomerRecord) {
        guard !audiences.isEmpty else {
            segmentation.refreshTimer(&record)
            return
        }
        record.timerDueAt = segmentTimer(of: record)
        segmentation.refreshTimer(&record)
        refreshAudienceTimer(&record, segmentDue: record.timerDueAt)
    }

    /// The segment's own due time: the shared timer when no audience timer brought it forward.
    private func segmentTimer(of record: CustomerRecord) -> Int64? {
        guard let due = record.timerDueAt, due == record.audiences.sharedTimerDueAt else { return record.timerDueAt }
        return record.audiences.segmentTimerDueAt
    }

    private mutating func refreshAudienceTimer(_ record: inout CustomerRecord, segmentDue: Int64?) {
        record.timerDueAt = segmentDue
        let next = audiences.nextChange(of: record, segmentation: segmentation)
        if let next, next < segmentDue ?? .max {
            record.timerDueAt = next
            record.audiences.segmentTimerDueAt = segmentDue
            record.audiences.sharedTimerDueAt = next
        } else {
            record.audiences.segmentTimerDueAt = nil
            record.audiences.sharedTimerDueAt = nil
        }
    }

    /// Back-fill (audiences added or changed on existing data): re-evaluates up to `limit` customers whose walk keys
    /// follow `after`, with cause `backfill`, and sets their timers. Returns the key to continue after, or nil when
    /// the walk is complete.
    public mutating func backfillAudiences<D: CustomerDirectory>(
        in directory: inout D, after: CustomerWalkKey?, limit: Int
    ) throws -> CustomerWalkKey? {
        let page = try directory.customers(after: after, limit: limit)
        for var record in page {
            let before = record.audiences
            let due = record.timerDueAt
            evaluateAudiences(&record, cause: .backfill)
            // Only the audience part of the timer: the segment's stays exactly as the stream left it.
            refreshAudienceTimer(&record, segmentDue: segmentTimer(of: record))
            if record.audiences != before || record.timerDueAt != due { try directory.update(record) }
        }
        return page.count < limit ? nil : page.last?.walkKey
    }
}
