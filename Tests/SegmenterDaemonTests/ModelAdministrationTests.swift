import Foundation
import SegmenterCore
import SegmenterStore
import Testing

@testable import SegmenterDaemon

@Suite("model administration on a stopped daemon's data directory")
struct ModelAdministrationTests {
    /// A data directory whose store holds a trained model with snapshots 1 and 2 and the customers of a replay.
    func trainedStore(in directory: URL) throws -> (SegmenterConfiguration, String) {
        var configuration = try SegmenterConfiguration.load(path: nil, environment: [:])
        configuration.segmentation.kmeans.initSample = 500
        configuration.segmentation.versionEvery = 5_000
        configuration.store.dataDirectory = directory.appendingPathComponent("data").path
        let input = try generatedEventsFile(customers: 500, events: 12_000, seed: 5, in: directory)
        let replay = Replay(options: .init(input: input.path, segmentation: configuration.segmentation))
        _ = try replay.run()
        let path = configuration.store.dataDirectory + "/" + DataDirectory.databaseFileName
        let store = try StateStore(path: path)
        try store.setMetadata("feature_fingerprint", configuration.segmentation.features.fingerprint)
        var batch = StoreBatch()
        batch.customers = replay.customers.map {
            StoredCustomer(customerID: $0.customerID, partition: 0, state: $0.state.encoded(layout: replay.segmentation.layout), segmentID: $0.segmentID,
                           segmentSince: $0.segmentSince, transitionSeq: $0.transitionSeq, eventCount: $0.eventCount,
                           lastEventAt: $0.state.lastEventAt)
        }
        let model = StoredModel(version: replay.segmentation.version, savedAt: 1,
                                blob: try replay.segmentation.snapshot().encoded())
        batch.model = model
        batch.modelSnapshot = model
        try store.commit(batch)
        return (configuration, path)
    }

    @Test("rollback restores byte-identical centers, counts, ids and names as a new version")
    func rollbackIsExact() throws {
        try withTemporaryDirectory { directory in
            let (configuration, path) = try trainedStore(in: directory)
            let original = try SegmentationSnapshot.decode(try StateStore(path: path).model()!.blob)
            let data = configuration.store.dataDirectory
            _ = try #require(try ModelAdministration.runOffline(.retrain, dataDirectory: data,
                                                                 configuration: configuration))
            let retrained = try SegmentationSnapshot.decode(try StateStore(path: path).model()!.blob)
            #expect(retrained.centers != original.centers)
            let message = try ModelAdministration.runOffline(
                .rollback(version: original.version), dataDirectory: data, configuration: configuration)
            #expect(message?.contains("restored") == true)
            let restored = try SegmentationSnapshot.decode(try StateStore(path: path).model()!.blob)
            #expect(restored.centers == original.centers)
            #expect(restored.names == original.names)
            #expect(restored.means == original.means && restored.squaredDeviations == original.squaredDeviations)
            #expect(restored.version > retrained.version)
            #expect(try StateStore(path: path).snapshots().map(\.version).contains(restored.version))
        }
    }

    @Test("freeze and rename persist; renaming an unknown segment says which segments exist")
    func freezeAndRename() throws {
        try withTemporaryDirectory { directory in
            let (configuration, path) = try trainedStore(in: directory)
            let data = configuration.store.dataDirectory
            _ = try ModelAdministration.runOffline(.freeze, dataDirectory: data, configuration: configuration)
            let centers = try SegmentationSnapshot.decode(try StateStore(path: path).model()!.blob).centers
            let id = centers[0].id
            let ids = centers.map { String($0.id) }.joined(separator: ", ")
            _ = try ModelAdministration.runOffline(.rename(segment: id, name: "VIP"), dataDirectory: data,
                                                   configuration: configuration)
            let stored = try SegmentationSnapshot.decode(try StateStore(path: path).model()!.blob)
            #expect(stored.frozen)
            #expect(stored.names[id] == "VIP")
            #expect(throws: SegmenterError(.notFound, "there is no segment 999; segments are \(ids)")) {
                try ModelAdministration.runOffline(.rename(segment: 999, name: "x"), dataDirectory: data,
                                                   configuration: configuration)
            }
        }
    }

    @Test("a data directory held by a running daemon is not written directly")
    func lockedDirectoryIsLeftAlone() throws {
        try withTemporaryDirectory { directory in
            let (configuration, _) = try trainedStore(in: directory)
            let held = try #require(try DataDirectoryLock(dataDirectory: configuration.store.dataDirectory))
            let result = try ModelAdministration.runOffline(
                .freeze, dataDirectory: configuration.store.dataDirectory, configuration: configuration)
            #expect(result == nil, "nil tells the caller to go through the running daemon's API")
            withExtendedLifetime(held) {}
        }
    }
}
