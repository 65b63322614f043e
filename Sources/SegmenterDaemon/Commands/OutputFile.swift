import Foundation

/// A buffered output file for command results (CSV, NDJSON); errors name the option the path came from.
public final class OutputFile {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private let path: String

    public init(path: String, option: String) throws {
        self.path = path
        guard FileManager.default.createFile(atPath: path, contents: nil),
              let handle = FileHandle(forWritingAtPath: path)
        else {
            throw CommandError("cannot write \(path) (\(option)): check the directory exists and is writable")
        }
        self.handle = handle
        buffer.reserveCapacity(1 << 20)
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
            throw CommandError("writing \(path) failed: \(error.localizedDescription)")
        }
        buffer.removeAll(keepingCapacity: true)
    }

    public func close() throws {
        try flush()
        try handle.close()
    }
}

/// Minimal CSV quoting (RFC 4180).
public enum CSV {
    public static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
