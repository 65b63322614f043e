import Foundation

/// A message the engine sends itself through the input topic to merge two ids that may live in different partitions
/// and instances (DESIGN §7, issue 18): never through shared memory. The daemon produces each through the outbox (in
/// the transaction that made it) keyed by ``key``, so it reaches the owner of that id, and applies it like an event
/// when it comes back: its offset commits with its effect, so it is applied exactly once.
public struct IdentityRecord: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// To the anonymous id's owner: an event tied `anonymousID` to `knownID`; send its state over.
        case mergeRequest = "merge_request"
        /// To the known id's owner: the anonymous customer's state (removed where it was), to merge in.
        case mergeState = "merge_state"
        /// To the known id's owner: an event that came under the merged-away id, now counting for `knownID`.
        case forward
    }

    public var kind: Kind
    public var anonymousID: String
    public var knownID: String
    /// Event time of the tie (epoch ms).
    public var at: Int64
    /// ``Kind/mergeState``: the anonymous customer's applied event count and encoded ``CustomerState``.
    public var eventCount: Int64?
    public var state: Data?
    /// ``Kind/forward``: the event as a native JSON line, `customer_id` already the known id.
    public var event: String?

    public init(
        kind: Kind, anonymousID: String, knownID: String, at: Int64, eventCount: Int64? = nil, state: Data? = nil,
        event: String? = nil
    ) {
        self.kind = kind
        self.anonymousID = anonymousID
        self.knownID = knownID
        self.at = at
        self.eventCount = eventCount
        self.state = state
        self.event = event
    }

    /// The Kafka key: the id whose owner must apply the record.
    public var key: String { kind == .mergeRequest ? anonymousID : knownID }

    /// Every record starts with these bytes, which no input event does; the daemon tells records from events by them
    /// before decoding.
    public static let prefix = Array(#"{"segmenter_record":"#.utf8)

    private struct Envelope: Codable {
        var segmenter_record: Int
        var body: IdentityRecord
    }

    /// One line of JSON: `{"segmenter_record":1,"body":{…}}`.
    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let body = (try? encoder.encode(self)) ?? Data()
        return Self.prefix + Array("1,\"body\":".utf8) + Array(body) + [UInt8(ascii: "}")]
    }

    public static func isRecord(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count > prefix.count && bytes.prefix(prefix.count).elementsEqual(prefix)
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer) -> IdentityRecord? {
        try? JSONDecoder().decode(Envelope.self, from: Data(bytes)).body
    }
}
