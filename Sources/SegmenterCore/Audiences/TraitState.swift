/// One customer's accumulator for one ``ComputedTrait``: O(1) per event and bounded in size (a point value, at
/// most ``ComputedTrait/frequentCapacity`` candidates, or at most ``ComputedTrait/windowBuckets`` + 1 buckets).
public struct TraitState: Sendable, Hashable {
    struct Bucket: Sendable, Hashable {
        /// Bucket number: event time / bucket width (0 for all-time traits).
        var index: Int64
        var count: Double
        var sum: Double
        var min: Double
        var max: Double
    }

    struct Candidate: Sendable, Hashable {
        var value: String
        var count: Double
    }

    enum Storage: Sendable, Hashable {
        case point(TraitValue, at: Int64)
        case frequent([Candidate])
        case buckets([Bucket])
    }

    var storage: Storage?

    init(storage: Storage? = nil) {
        self.storage = storage
    }

    /// Folds one matching event, applied at `time`, into the state.
    mutating func observe(_ event: Event, at time: Int64, trait: ComputedTrait) {
        let text: String?
        let number: Double?
        switch trait.property {
        case .number(let p)?: number = event.number(p); text = nil
        case .text(let p)?: text = event.string(p); number = nil
        case .type?: text = event.type.wireName; number = nil
        case nil: text = nil; number = nil
        }
        switch trait.kind {
        case .last, .first:
            guard let value = number.map(TraitValue.number) ?? text.map(TraitValue.text) else { return }
            if case .point(_, let at)? = storage {
                let later = trait.kind == .last ? time >= at : time < at
                guard later else { return }
            }
            storage = .point(value, at: time)
        case .mostFrequent:
            guard let text else { return }
            var candidates: [Candidate] = []
            if case .frequent(let existing)? = storage { candidates = existing }
            if let i = candidates.firstIndex(where: { $0.value == text }) {
                candidates[i].count += 1
            } else if candidates.count < ComputedTrait.frequentCapacity {
                candidates.append(Candidate(value: text, count: 1))
            } else if let rarest = candidates.indices.min(by: { Self.rarer(candidates[$0], candidates[$1]) }) {
                // Space-saving: the newcomer inherits the rarest count, so a value that really is frequent wins.
                candidates[rarest] = Candidate(value: text, count: candidates[rarest].count + 1)
            }
            storage = .frequent(candidates)
        case .count, .sum, .min, .max:
            let x = number ?? 0
            guard trait.kind == .count || number != nil else { return }
            let index = trait.isWindowed ? Self.floorDivide(time, trait.bucketMilliseconds) : 0
            var buckets: [Bucket] = []
            if case .buckets(let existing)? = storage { buckets = existing }
            if let latest = buckets.last?.index, trait.isWindowed,
               index < latest - Int64(ComputedTrait.windowBuckets)
            {
                return
            }
            if let i = buckets.firstIndex(where: { $0.index == index }) {
                buckets[i].count += 1
                buckets[i].sum += x
                buckets[i].min = Swift.min(buckets[i].min, x)
                buckets[i].max = Swift.max(buckets[i].max, x)
            } else {
                buckets.append(Bucket(index: index, count: 1, sum: x, min: x, max: x))
                buckets.sort { $0.index < $1.index }
                if let latest = buckets.last?.index {
                    buckets.removeAll { $0.index < latest - Int64(ComputedTrait.windowBuckets) }
                }
            }
            storage = .buckets(buckets)
        }
    }

    /// The trait's value as of `now` (epoch ms); nil when it has none (no matching event, or none in the window
    /// for `min` and `max`).
    func value(at now: Int64, trait: ComputedTrait) -> TraitValue? {
        switch storage {
        case .point(let value, _)?:
            return value
        case .frequent(let candidates)?:
            return candidates.max(by: { Self.rarer($0, $1) }).map { .text($0.value) }
        case .buckets(let buckets)?:
            var count = 0.0, sum = 0.0, low = Double.infinity, high = -Double.infinity
            let first = trait.isWindowed
                ? Self.floorDivide(now - Int64(trait.windowDays! * 86_400_000), trait.bucketMilliseconds) : Int64.min
            for bucket in buckets where bucket.index >= first {
                count += bucket.count
                sum += bucket.sum
                low = Swift.min(low, bucket.min)
                high = Swift.max(high, bucket.max)
            }
            switch trait.kind {
            case .count: return .number(count)
            case .sum: return .number(sum)
            case .min: return count > 0 ? .number(low) : nil
            case .max: return count > 0 ? .number(high) : nil
            default: return nil
            }
        case nil:
            return trait.kind == .count || trait.kind == .sum ? .number(0) : nil
        }
    }

    /// The order of candidates: by count, ties broken by value so that every run picks the same one.
    private static func rarer(_ a: Candidate, _ b: Candidate) -> Bool {
        a.count != b.count ? a.count < b.count : b.value.precedesInByteOrder(a.value)
    }

    static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}

extension TraitState {
    func encode(into writer: inout ByteWriter) {
        switch storage {
        case nil:
            writer.write(UInt8(0))
        case .point(let value, let at)?:
            writer.write(UInt8(1))
            writer.write(at)
            Self.encode(value, into: &writer)
        case .frequent(let candidates)?:
            writer.write(UInt8(2))
            writer.write(UInt8(candidates.count))
            for candidate in candidates {
                Self.encode(.text(candidate.value), into: &writer)
                writer.write(candidate.count)
            }
        case .buckets(let buckets)?:
            writer.write(UInt8(3))
            writer.write(UInt8(buckets.count))
            for bucket in buckets {
                writer.write(bucket.index)
                for x in [bucket.count, bucket.sum, bucket.min, bucket.max] { writer.write(x) }
            }
        }
    }

    init?(from reader: inout ByteReader) {
        guard let tag = reader.read(UInt8.self) else { return nil }
        switch tag {
        case 0:
            storage = nil
        case 1:
            guard let at = reader.read(Int64.self), let value = Self.decodeValue(&reader) else { return nil }
            storage = .point(value, at: at)
        case 2:
            guard let n = reader.read(UInt8.self) else { return nil }
            var candidates: [Candidate] = []
            for _ in 0..<n {
                guard case .text(let value)? = Self.decodeValue(&reader), let count = reader.readDouble()
                else { return nil }
                candidates.append(Candidate(value: value, count: count))
            }
            storage = .frequent(candidates)
        case 3:
            guard let n = reader.read(UInt8.self) else { return nil }
            var buckets: [Bucket] = []
            for _ in 0..<n {
                guard let index = reader.read(Int64.self), let count = reader.readDouble(),
                      let sum = reader.readDouble(), let low = reader.readDouble(), let high = reader.readDouble()
                else { return nil }
                buckets.append(Bucket(index: index, count: count, sum: sum, min: low, max: high))
            }
            storage = .buckets(buckets)
        default:
            return nil
        }
    }

    static func encode(_ value: TraitValue, into writer: inout ByteWriter) {
        switch value {
        case .number(let x):
            writer.write(UInt8(0))
            writer.write(x)
        case .text(let s):
            writer.write(UInt8(1))
            encode(s, into: &writer)
        }
    }

    static func decodeValue(_ reader: inout ByteReader) -> TraitValue? {
        switch reader.read(UInt8.self) {
        case 0: reader.readDouble().map(TraitValue.number)
        case 1: decodeString(&reader).map(TraitValue.text)
        default: nil
        }
    }

    static func encode(_ text: String, into writer: inout ByteWriter) {
        let bytes = Array(text.utf8.prefix(Int(UInt16.max)))
        writer.write(UInt16(bytes.count))
        writer.bytes.append(contentsOf: bytes)
    }

    static func decodeString(_ reader: inout ByteReader) -> String? {
        guard let n = reader.read(UInt16.self) else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(n))
        for _ in 0..<n {
            guard let byte = reader.read(UInt8.self) else { return nil }
            bytes.append(byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
