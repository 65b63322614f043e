import Foundation

/// Reads a file (or standard input) line by line in large chunks and hands each line to the caller as raw
/// bytes, without building a String per line. Lines may end in `\n` or `\r\n`; a final line without a newline is
/// delivered too.
struct LineReader {
    let descriptor: Int32
    let closeWhenDone: Bool

    /// `path` "-" means standard input.
    init(path: String) throws {
        if path == "-" {
            descriptor = 0
            closeWhenDone = false
        } else {
            let fd = open(path, O_RDONLY)
            guard fd >= 0 else {
                throw SegmenterError(
                    .ioFailure, "cannot open input \(path): \(String(cString: strerror(errno))); check --input")
            }
            descriptor = fd
            closeWhenDone = true
        }
    }

    /// Calls `body` with each line (without its line ending) and its 1-based line number.
    func forEachLine(_ body: (UnsafeRawBufferPointer, Int) throws -> Void) throws {
        defer { if closeWhenDone { close(descriptor) } }
        let chunkSize = 1 << 20
        var buffer = [UInt8](repeating: 0, count: chunkSize * 2)
        var filled = 0
        var lineNumber = 0
        while true {
            if filled == buffer.count {
                buffer.append(contentsOf: [UInt8](repeating: 0, count: buffer.count))
            }
            let n = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + filled, $0.count - filled) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SegmenterError(.ioFailure, "reading input failed: \(String(cString: strerror(errno)))")
            }
            let end = filled + n
            var start = 0
            try buffer.withUnsafeBytes { bytes in
                var i = filled
                while i < end {
                    if bytes[i] == UInt8(ascii: "\n") {
                        var stop = i
                        if stop > start, bytes[stop - 1] == UInt8(ascii: "\r") { stop -= 1 }
                        lineNumber += 1
                        try body(UnsafeRawBufferPointer(rebasing: bytes[start..<stop]), lineNumber)
                        start = i + 1
                    }
                    i += 1
                }
                if n == 0, start < end {
                    lineNumber += 1
                    try body(UnsafeRawBufferPointer(rebasing: bytes[start..<end]), lineNumber)
                    start = end
                }
            }
            if n == 0 { return }
            let remaining = end - start
            if remaining > 0, start > 0 {
                buffer.withUnsafeMutableBytes { bytes in
                    _ = memmove(bytes.baseAddress!, bytes.baseAddress! + start, remaining)
                }
            }
            filled = remaining
        }
    }
}
