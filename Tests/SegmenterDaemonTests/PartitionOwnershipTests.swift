import Testing

@testable import SegmenterDaemon

/// Partition ownership as a state machine: every path from assignment to hold, restore, revoke and drop, with
/// time passed in.
@Suite("partition ownership")
struct PartitionOwnershipTests {
    private let t0 = ContinuousClock.now

    private func ownership(changelog: Bool = true, leader: Int32? = 0) -> PartitionOwnership {
        PartitionOwnership(changelog: changelog, leaderPartition: leader, now: t0)
    }

    @Test("assigned partitions whose store is current are owned at once; the leader partition brings the lead")
    func assignHeld() {
        var o = ownership()
        #expect(o.assigned([0, 1], restoring: [], now: t0) == [.lead])
        #expect(o.owned == [0, 1])
        #expect(!o.isRestoring)
    }

    @Test("without a changelog nothing restores and every partition counts as owned")
    func withoutChangelog() {
        var o = ownership(changelog: false, leader: nil)
        #expect(o.assigned([0, 1], restoring: [1], now: t0).isEmpty)
        #expect(o.owned == nil)
        #expect(!o.isRestoring)
        #expect(o.revoked([1], now: t0).isEmpty)
        #expect(o.movedAway.isEmpty)
    }

    @Test("a restoring partition is not owned until its restored state is stored, then it resumes")
    func restoreThenResume() {
        var o = ownership(leader: nil)
        #expect(o.assigned([0, 1], restoring: [1], now: t0) == [.beginRestores([1])])
        #expect(o.owned == [0])
        #expect(o.isRestoring)
        let (seconds, actions) = o.restoresFinished([1], now: t0 + .seconds(3))
        #expect(seconds == [1: 3])
        #expect(actions == [.storeRestored([1])])
        #expect(o.owned == [0], "restored but not yet stored")
        #expect(o.awaitingStore == [1])
        #expect(o.restoredStored() == [.resume([1])])
        #expect(o.owned == [0, 1])
        #expect(!o.isRestoring)
        #expect(o.restoredStored().isEmpty)
    }

    @Test("restore time is wall time with any partition restoring, counted once for overlapping restores")
    func restoreSeconds() {
        var o = ownership(leader: nil)
        _ = o.assigned([0], restoring: [0], now: t0)
        _ = o.assigned([1], restoring: [1], now: t0 + .seconds(1))
        #expect(o.tick(now: t0 + .seconds(2), idle: true) == [.restoreSeconds(2)])
        _ = o.restoresFinished([0, 1], now: t0 + .seconds(3))
        _ = o.restoredStored()
        #expect(o.tick(now: t0 + .seconds(4), idle: true) == [.restoreSeconds(2)])
        #expect(o.tick(now: t0 + .seconds(9), idle: true).isEmpty, "the clock stops once nothing restores")
    }

    @Test("revoking a restoring partition cancels its restore; revoking the leader partition means following")
    func revokeWhileRestoring() {
        var o = ownership()
        _ = o.assigned([0, 1], restoring: [1], now: t0)
        #expect(o.revoked([0, 1], now: t0 + .seconds(1)) == [.follow, .cancelRestores([1]), .restoreSeconds(1)])
        #expect(o.owned == [])
        #expect(!o.isRestoring)
        #expect(o.restoresFinished([1], now: t0 + .seconds(2)).actions.isEmpty, "a cancelled restore cannot finish")
    }

    @Test("a revoked partition is checked between batches and dropped once another instance wrote it")
    func movedAwayDropped() {
        var o = ownership(leader: nil)
        _ = o.assigned([0, 1], restoring: [], now: t0)
        _ = o.revoked([1], now: t0)
        #expect(o.tick(now: t0, idle: false).isEmpty, "not while a batch is in flight")
        #expect(o.tick(now: t0, idle: true) == [.checkMovedAway([1])])
        #expect(o.tick(now: t0 + .seconds(1), idle: true).isEmpty, "not more often than every two seconds")
        #expect(o.writtenElsewhere([]).isEmpty)
        #expect(o.tick(now: t0 + .seconds(2), idle: true) == [.checkMovedAway([1])])
        #expect(o.writtenElsewhere([1]) == [.drop([1])])
        #expect(o.tick(now: t0 + .seconds(4), idle: true).isEmpty)
    }

    @Test("moved-away checks wait while a partition restores")
    func noCheckWhileRestoring() {
        var o = ownership(leader: nil)
        _ = o.assigned([0, 1], restoring: [0], now: t0)
        _ = o.revoked([1], now: t0)
        #expect(o.tick(now: t0 + .seconds(1), idle: true) == [.restoreSeconds(1)])
    }

    @Test("a revoked partition assigned back is owned again and no longer watched")
    func handedBack() {
        var o = ownership(leader: nil)
        _ = o.assigned([0], restoring: [], now: t0)
        _ = o.revoked([0], now: t0)
        #expect(o.movedAway.keys.sorted() == [0])
        _ = o.assigned([0], restoring: [], now: t0 + .seconds(1))
        #expect(o.movedAway.isEmpty)
        #expect(o.owned == [0])
    }

    @Test("a revoked partition's state is watched for ten minutes, then kept without further checks")
    func watchExpires() {
        var o = ownership(leader: nil)
        _ = o.assigned([0], restoring: [], now: t0)
        _ = o.revoked([0], now: t0)
        #expect(o.tick(now: t0 + PartitionOwnership.movedAwayWatch, idle: true).isEmpty)
        #expect(o.movedAway.isEmpty)
        #expect(o.writtenElsewhere([0]).isEmpty, "a forgotten partition is never dropped")
    }

    @Test("partitions revoked while leaving the group at shutdown are kept, not watched")
    func closingKeepsState() {
        var o = ownership()
        _ = o.assigned([0, 1], restoring: [], now: t0)
        o.close()
        #expect(o.revoked([0, 1], now: t0) == [.follow])
        #expect(o.movedAway.isEmpty)
    }
}
