import Foundation

/// An exclusive lock on a data directory (`segmenter.lock`, flock), held by the daemon for its lifetime, so that
/// a second daemon — or `segmenter model` acting on the files directly — cannot write the same store at once.
/// The kernel releases it when the process dies, `kill -9` included.
public final class DataDirectoryLock {
    private let descriptor: Int32
    private var held = true

    /// Takes the lock, or returns nil when another process holds it.
    public init?(dataDirectory: String) throws {
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let path = URL(fileURLWithPath: dataDirectory).appendingPathComponent("segmenter.lock").path
        let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw SegmenterError(
                .unavailable, "cannot open \(path): \(String(cString: strerror(errno))); check --data-dir permissions")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            return nil
        }
        descriptor = fd
    }

    /// Gives the lock up before the owner goes away (a stopped pipeline no longer needs it).
    public func release() {
        guard held else { return }
        held = false
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    deinit {
        release()
    }
}
