import Foundation
import SegmenterCore
import SegmenterKafka
import SegmenterStore
import Testing

@testable import SegmenterDaemon

/// A tmpfs of a given size mounted for one test (root only: the container the tests run in allows it), so that
/// a real "disk full" and a real read-only file system can be produced. Unmounted in `deinit`.
final class TinyFileSystem {
    let path: String

    static var isAvailable: Bool {
        guard getuid() == 0 else { return false }
        let probe = NSTemporaryDirectory() + "tinyfs-probe-\(UUID().uuidString.prefix(6))"
        guard (try? FileManager.default.createDirectory(atPath: probe, withIntermediateDirectories: true)) != nil
        else { return false }
        defer { try? FileManager.default.removeItem(atPath: probe) }
        guard run("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe]) == 0 else { return false }
        return run("/usr/bin/umount", [probe]) == 0
    }

    init(kilobytes: Int) throws {
        path = NSTemporaryDirectory() + "tinyfs-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let status = Self.run("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=\(kilobytes)k", "tmpfs", path])
        #expect(status == 0, "mount a \(kilobytes) KiB tmpfs at \(path)")
    }

    /// Remounts with a new size and/or read-only.
    func remount(kilobytes: Int? = nil, readOnly: Bool = false) {
        var options = ["remount", readOnly ? "ro" : "rw"]
        if let kilobytes { options.append("size=\(kilobytes)k") }
        #expect(Self.run("/usr/bin/mount", ["-o", options.joined(separator: ","), path]) == 0)
    }

    deinit {
        _ = Self.run("/usr/bin/umount", ["-l", path])
        try? FileManager.default.removeItem(atPath: path)
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}

@Suite("SQLite faults stop the daemon with a clear message", .serialized)
struct StoreFaultDaemonTests {
    /// Starts `segmenter run` on `dataDirectory`; returns its exit status (nil: still running after 30 s) and output.
    func runDaemon(broker: EmbeddedBroker, dataDirectory: String, in directory: URL, until consumed: Int? = nil)
        throws -> (status: Int32?, output: String)
    {
        let config = try writeConfig(broker: broker, dataDirectory: dataDirectory, batchSize: 500, in: directory)
        let daemon = try DaemonProcess(configFile: config, logDirectory: directory, name: "fault")
        if let consumed {
            if try waitUntilConsumed(consumed, dataDirectories: [dataDirectory], within: .seconds(60)) {
                daemon.kill(SIGTERM)
            }
        }
        let status = daemon.wait(.seconds(30))
        daemon.kill(SIGKILL)
        return (status, daemon.output)
    }

    /// Starts the daemon on a data directory that `prepare` damaged; it must exit 1 saying all of `sentences`.
    func expectRefusal(saying sentences: (String) -> [String], prepare: (URL) throws -> String) throws {
        try withTemporaryDirectory { directory in
            let broker = try makeBroker()
            let data = try prepare(directory)
            let (status, output) = try runDaemon(broker: broker, dataDirectory: data, in: directory)
            #expect(status == 1, "\(output.suffix(400))")
            for sentence in sentences(data) {
                #expect(output.contains(sentence), "\(sentence) in \(output.suffix(400))")
            }
        }
    }

    @Test("a corrupt database file: exit 1, the message names the file and what to do")
    func corruptDatabase() throws {
        try expectRefusal(
            saying: { ["\($0)/\(DataDirectory.databaseFileName)", "restore it or point --data-dir elsewhere"] }
        ) {
            let data = $0.appendingPathComponent("data")
            try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
            try Data(repeating: 0x42, count: 20_000)
                .write(to: data.appendingPathComponent(DataDirectory.databaseFileName))
            return data.path
        }
    }

    @Test("a database written by a newer segmenter: exit 1, the message names the file and what to do")
    func newerSchema() throws {
        try expectRefusal(saying: {
            ["\($0)/\(DataDirectory.databaseFileName)", "v9_from_the_future come from a newer segmenter",
             "run the matching segmenter version"]
        }) {
            let data = $0.appendingPathComponent("data").path
            let file = data + "/" + DataDirectory.databaseFileName
            _ = try StateStore(path: file)
            #expect(TinyFileSystem.run("/usr/bin/sqlite3", [
                file, "INSERT INTO migrations (name, applied_at) VALUES ('v9_from_the_future', 0)",
            ]) == 0)
            return data
        }
    }

    @Test("a read-only data directory: exit 1, the message names the path and what to do",
          .enabled(if: TinyFileSystem.isAvailable, "needs root to mount a read-only tmpfs"))
    func readOnlyDirectory() throws {
        let disk = try TinyFileSystem(kilobytes: 4_096)
        try expectRefusal(saying: { [$0, "Read-only file system", "permissions"] }) { _ in
            _ = try StateStore(path: disk.path + "/" + DataDirectory.databaseFileName)
            disk.remount(readOnly: true)
            return disk.path
        }
    }

    @Test("disk full while consuming: exit 1 naming the file, no partial batch, then it resumes exactly",
          .enabled(if: TinyFileSystem.isAvailable, "needs root to mount a small tmpfs"))
    func diskFullWhileConsuming() throws {
        try withTemporaryDirectory { directory in
            let broker = try makeBroker()
            let (messages, counts) = generatedMessages(customers: 3_000, events: 30_000, seed: 51)
            try produce(messages, broker: broker)
            let disk = try TinyFileSystem(kilobytes: 768)
            let (status, output) = try runDaemon(broker: broker, dataDirectory: disk.path, in: directory)
            #expect(status == 1, "the daemon stops with a failure status when the disk is full")
            #expect(output.contains("Free disk space"))
            #expect(output.contains(disk.path + "/" + DataDirectory.databaseFileName))

            // What was committed is whole: every stored offset's events are applied, no more, no fewer.
            let partial = try StoreContents(dataDirectory: disk.path)
            #expect(partial.consumed < 30_000)
            #expect(partial.counts.values.reduce(0, +) == partial.consumed)

            disk.remount(kilobytes: 131_072)
            let (resumed, log) = try runDaemon(broker: broker, dataDirectory: disk.path, in: directory,
                                               until: messages.count)
            #expect(resumed == 0, "after the disk is freed the daemon resumes and stops cleanly: \(log.suffix(500))")
            let contents = try StoreContents(dataDirectory: disk.path)
            #expect(contents.consumed == 30_000)
            #expect(contents.counts == counts, "every event applied exactly once across the failure")
        }
    }
}
