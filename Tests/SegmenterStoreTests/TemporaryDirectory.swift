import Foundation

/// Runs `body` with a fresh directory under the system's temporary directory and removes it afterwards.
func withTemporaryDirectory<R>(_ body: (URL) throws -> R) throws -> R {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("segmenter-store-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try body(directory)
}

/// The database file the tests use inside `directory`; one level down so that `StateStore` must create it.
func databasePath(in directory: URL) -> String {
    directory.appendingPathComponent("data/segmenter.sqlite").path
}
