import Foundation

/// A Segment `identify` (`userId` with `anonymousId`) or `alias` (`previousId` → `userId`) call read as a tie between
/// two ids (issue 18): not behaviour, so no event is applied, but it starts a merge like an event naming both ids.
/// Such calls are rare next to behaviour, so they are read with Foundation's parser, after the hot path's decoder
/// skipped them as ``EventRejection/Code-swift.enum/notBehaviour``.
public struct IdentityTie: Sendable, Hashable {
    public var anonymousID: String
    public var knownID: String
    /// Event time of the call (epoch ms): `timestamp`, else `originalTimestamp`, else `receivedAt`.
    public var at: Int64

    public init(anonymousID: String, knownID: String, at: Int64) {
        self.anonymousID = anonymousID
        self.knownID = knownID
        self.at = at
    }

    /// The tie an `identify` or `alias` call makes; nil for any other message or a call missing an id or a time.
    public static func segmentCall(_ bytes: UnsafeRawBufferPointer) -> IdentityTie? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
              let call = object["type"] as? String
        else { return nil }
        let ids: (String?, String?) = switch call {
        case "identify": (object["anonymousId"] as? String, object["userId"] as? String)
        case "alias": (object["previousId"] as? String, object["userId"] as? String)
        default: (nil, nil)
        }
        let limit = EventDecoder.maxCustomerIDBytes
        guard let anonymous = ids.0, let known = ids.1, !anonymous.isEmpty, !known.isEmpty, anonymous != known,
              anonymous.utf8.count <= limit, known.utf8.count <= limit,
              let at = ["timestamp", "originalTimestamp", "receivedAt"].lazy
                  .compactMap({ (object[$0] as? String).flatMap(RFC3339.parse) }).first
        else { return nil }
        return IdentityTie(anonymousID: anonymous, knownID: known, at: at)
    }
}
