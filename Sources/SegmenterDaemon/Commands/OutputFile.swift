import Foundation

/// A buffered output file for command results (CSV, NDJSON); errors name the option the path came from.
///
/// Standard output is written through the process's file descriptor 1 as it is, never by reopening
/// `/dev/stdout` (issue #14): `FileManager.createFile` writes atomically, a temporary file renamed over the path,
/// so as root it replaced the `/dev/stdout` symlink with a regular file that swallowed the output (and every later
/// write to `/dev/stdout` on the machine), and as any other user it failed. Files are opened with `open(2)`.
public final class OutputFile {
    private let handle: FileHandle
    private let closes: Bool
    private var buffer: [UInt8] = []
    private let path: String

    /// Standard output: `path` nil, `-` or `/dev/stdout`.
    public static func isStandardOutput(_ path: String?) -> Bool {
        path == nil || path == "-" || path == "/dev/stdout"
    }

    /// Opens `path` (created or truncated), or standard output when ``isStandardOutput(_:)``.
    public init(path: String?, option: String) throws {
        buffer.reserveCapacity(1 << 20)
        guard let path, !Self.isStandardOutput(path) else {
            self.path = "standard output"
            handle = FileHandle.standardOutput
            closes = false
            return
        }
        self.path = path
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            let reason = String(cString: strerror(errno))
            throw SegmenterError(
                .ioFailure,
                "cannot write \(path) (\(option)): \(reason); check the directory exists and is writable")
        }
        handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        closes = true
    }

    public func write(_ text: String) throws {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 20 { try flush() }
    }

    public func flush() throws {
        guard !buffer.isEmpty else { return }
        do {
            try handle.write(contentsOf: buffer)
        } catch {
            throw SegmenterError(.ioFailure, "writing \(path) failed: \(error.localizedDescription)")
        }
        buffer.removeAll(keepingCapacity: true)
    }

    public func close() throws {
        try flush()
        if closes { try handle.close() }
    }
}

/// Minimal CSV quoting (RFC 4180).
public enum CSV {
    public static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
