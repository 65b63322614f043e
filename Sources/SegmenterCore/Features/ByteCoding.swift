/// Little-endian byte writing and reading for the compact stored forms of customer state. Kept tiny and
/// allocation-free on the write side: callers reuse one `ByteWriter` per batch.
public struct ByteWriter: Sendable {
    public var bytes: [UInt8] = []

    public init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    @inline(__always)
    public mutating func write<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    @inline(__always)
    public mutating func write(_ value: Double) {
        write(value.bitPattern)
    }
}

/// Reads what ``ByteWriter`` wrote; every read checks bounds and reports truncation as `nil`.
public struct ByteReader {
    let bytes: [UInt8]
    public private(set) var position = 0

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    public var isAtEnd: Bool { position == bytes.count }

    /// The next `count` bytes, or nil when fewer are left.
    public mutating func readBytes(_ count: Int) -> [UInt8]? {
        guard count >= 0, position + count <= bytes.count else { return nil }
        defer { position += count }
        return Array(bytes[position..<(position + count)])
    }

    @inline(__always)
    public mutating func read<T: FixedWidthInteger>(_: T.Type) -> T? {
        let size = MemoryLayout<T>.size
        guard position + size <= bytes.count else { return nil }
        var value: T = 0
        for i in 0..<size {
            value |= T(truncatingIfNeeded: bytes[position + i]) << (8 * i)
        }
        position += size
        return value
    }

    @inline(__always)
    public mutating func readDouble() -> Double? {
        read(UInt64.self).map(Double.init(bitPattern:))
    }
}

/// The stored form of a ``CustomerState`` does not match the feature layout it is read with.
public struct CustomerStateDecodingError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

extension CustomerState {
    /// Version 3 appends the ``ActivitySummary``; version 2 states (stored before it) are still read.
    static let encodingVersion: UInt8 = 3
    static let encodingVersionWithoutActivity: UInt8 = 2

    /// Compact stored form: header, recent event ids, then only the non-zero slots behind a bitmap; times as
    /// Doubles, distinct-value hashes as UInt32, amounts as Float32 (so a decoded state equals the original to
    /// about 7 significant digits in its amounts, and exactly otherwise).
    public func encode(into writer: inout ByteWriter, layout: FeatureLayout) {
        writer.write(Self.encodingVersion)
        writer.write(lastEventAt)
        writer.write(sessionKey)
        writer.write(UInt8((sessionHasCart ? 1 : 0) | (sessionHasPurchase ? 2 : 0)))
        writer.write(UInt8(recentEventIDs.count))
        writer.write(UInt8(recentNext))
        for id in recentEventIDs {
            writer.write(id)
        }
        writer.write(UInt16(slots.count))
        var mask: UInt8 = 0
        for (i, value) in slots.enumerated() {
            if value != 0 { mask |= 1 << UInt8(i % 8) }
            if i % 8 == 7 || i == slots.count - 1 {
                writer.write(mask)
                mask = 0
            }
        }
        for (i, value) in slots.enumerated() where value != 0 {
            switch layout.slotEncodings[i] {
            case .time: writer.write(value)
            case .hash: writer.write(UInt32(value))
            case .amount: writer.write(Float(value).bitPattern)
            }
        }
        activity.encode(into: &writer)
    }

    public func encoded(layout: FeatureLayout) -> [UInt8] {
        var writer = ByteWriter()
        encode(into: &writer, layout: layout)
        return writer.bytes
    }

    /// Reads a stored state; fails when it was written for a different feature layout.
    public init(encoded bytes: [UInt8], layout: FeatureLayout) throws {
        var reader = ByteReader(bytes)
        func fail(_ why: String) -> CustomerStateDecodingError {
            CustomerStateDecodingError(description: "stored customer state is unreadable: \(why)")
        }
        let version = reader.read(UInt8.self)
        guard version == Self.encodingVersion || version == Self.encodingVersionWithoutActivity else {
            throw fail("unknown version")
        }
        guard let last = reader.read(Int64.self), let key = reader.read(UInt64.self),
              let flags = reader.read(UInt8.self), let recentCount = reader.read(UInt8.self),
              let recentNext = reader.read(UInt8.self)
        else { throw fail("truncated header") }
        self.init(layout: layout)
        lastEventAt = last
        sessionKey = key
        sessionHasCart = flags & 1 != 0
        sessionHasPurchase = flags & 2 != 0
        self.recentNext = Int(recentNext)
        for _ in 0..<recentCount {
            guard let id = reader.read(UInt64.self) else { throw fail("truncated event ids") }
            recentEventIDs.append(id)
        }
        guard let count = reader.read(UInt16.self), Int(count) == layout.slotCount else {
            throw fail("it has a different number of feature slots than the configured features")
        }
        var present: [Bool] = []
        present.reserveCapacity(Int(count))
        for start in stride(from: 0, to: Int(count), by: 8) {
            guard let mask = reader.read(UInt8.self) else { throw fail("truncated mask") }
            for bit in 0..<min(8, Int(count) - start) {
                present.append(mask & (1 << UInt8(bit)) != 0)
            }
        }
        for i in 0..<Int(count) {
            guard present[i] else {
                slots[i] = 0
                continue
            }
            let value: Double?
            switch layout.slotEncodings[i] {
            case .time: value = reader.readDouble()
            case .hash: value = reader.read(UInt32.self).map(Double.init)
            case .amount: value = reader.read(UInt32.self).map { Double(Float(bitPattern: $0)) }
            }
            guard let value else { throw fail("truncated values") }
            slots[i] = value
        }
        if version == Self.encodingVersion {
            guard let summary = ActivitySummary(reading: &reader) else { throw fail("truncated activity summary") }
            activity = summary
        } else {
            activity = ActivitySummary(lastEventAt: last)
        }
    }
}
