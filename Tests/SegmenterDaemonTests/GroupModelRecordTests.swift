import Foundation
import SegmenterCore
import Testing

@testable import SegmenterDaemon

/// The model topic's records and who takes which (issue 17).
@Suite("model topic records")
struct GroupModelRecordTests {
    func trained(version atLeast: Int64 = 1, seed: UInt64 = 41) throws -> Segmentation {
        var c = SegmentationConfiguration()
        c.kmeans.initSample = 300
        c.refineEvery = 800
        c.tickEvents = 200
        var engine = SegmentationEngine(segmentation: Segmentation(configuration: c))
        var customers = InMemoryCustomers()
        for event in SyntheticShoppers(customers: 400, events: 5_000, seed: seed) {
            try engine.apply(event, partition: 0, in: &customers)
        }
        #expect(engine.segmentation.version >= atLeast)
        return engine.segmentation
    }

    func record(_ segmentation: Segmentation, version: Int64? = nil, leader: String) -> GroupModel.Record {
        GroupModel.Record(
            version: version ?? segmentation.version, leader: leader, publishedAt: 1_700_000_000_000,
            model: segmentation.sharedSnapshot())
    }

    @Test("a published model reads back as it was written; other bytes read as no model")
    func roundTrip() throws {
        let model = try trained()
        let written = record(model, leader: "a")
        let bytes = try GroupModel.encode(written)
        #expect(GroupModel.decode(bytes) == written)
        #expect(String(decoding: bytes, as: UTF8.self).contains(#""format":"segmenter.group-model\/1""#))
        #expect(GroupModel.decode(Array("{}".utf8)) == nil)
        #expect(GroupModel.decode(Array("not json".utf8)) == nil)
        var future = written
        future.format = "segmenter.group-model/2"
        #expect(GroupModel.decode(try GroupModel.encode(future)) == nil, "a format this release does not know")
    }

    @Test("who adopts what: anything without a model, newer versions, an equal one only from another leader")
    func adoptionRule() throws {
        let model = try trained(version: 2)
        let fresh = Segmentation(configuration: model.configuration)
        let v = model.version
        #expect(GroupModel.shouldAdopt(record(model, leader: "a"), own: fresh, instanceID: "b"))
        #expect(GroupModel.shouldAdopt(record(model, version: v + 1, leader: "a"), own: model, instanceID: "b"))
        #expect(GroupModel.shouldAdopt(record(model, leader: "a"), own: model, instanceID: "b"),
                "the same number from another leader: its successor republished it")
        #expect(!GroupModel.shouldAdopt(record(model, leader: "b"), own: model, instanceID: "b"),
                "its own publication of the version it holds: it has learned past it")
        #expect(!GroupModel.shouldAdopt(record(model, version: v - 1, leader: "a"), own: model, instanceID: "b"),
                "an older model, e.g. a late write of a former leader")
        var empty = record(fresh, version: 0, leader: "a")
        empty.model = fresh.sharedSnapshot()
        #expect(!GroupModel.shouldAdopt(empty, own: fresh, instanceID: "b"), "a model that has no centers")
    }
}
