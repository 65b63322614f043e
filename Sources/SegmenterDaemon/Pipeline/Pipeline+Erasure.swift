import SegmenterCore
import SegmenterStore

/// Erasure on the running daemon (issue 18): `DELETE /v1/customers/{id}` and `segmenter customers erase` submit an
/// ``ModelCommand/erase(customers:)``; the pipeline carries it out between batches, like the model commands, so
/// that the deletions, the last changes and the offsets go in one transaction, and answers once it committed.
extension Pipeline {
    /// An operator command on the pipeline thread: erasure here, the model's commands in ``ModelAdministration``.
    func carryOut(_ command: ModelCommand) throws -> String {
        guard case .erase(let ids) = command else {
            try refuseModelCommandWhileFollowing()
            return try ModelAdministration.apply(command, to: &engine.segmentation, store: dataDirectory.store) {
                customers.peek($0)
            }
        }
        var erased: [String] = []
        var unknown: [String] = []
        for id in ids {
            // Rows this batch queued for the customer would be written after the deletions: drop them first.
            entries.removeAll { $0.customerID == id }
            if try engine.erase(id, in: &customers) { erased.append(id) } else { unknown.append(id) }
            batch.erasedCustomers.append(id)
            if suppression.enabled {
                // The anonymous ids merged into the customer are theirs too: their later events are kept out as well.
                let merged = identities.links.filter { $0.value.knownID == id }.map(\.key).sorted()
                for suppressed in [id] + merged {
                    suppression.add(suppressed)
                    batch.suppressedCustomers.append(suppressed)
                }
            }
            identities.forget(id)
        }
        takeChanges(trigger: nil)
        return try CustomerErasure.answer(erased: erased, unknown: unknown, suppressing: suppression.enabled)
    }
}

extension BatchCommitter.Entry {
    /// The customer the row is about ("" for a dead letter).
    var customerID: String {
        switch self {
        case .change(let change, _, _): change.customerID
        case .message(let message): message.customerID
        }
    }
}

/// The suppression list in memory (`privacy.suppress_erased`): loaded once at start, grown by each erasure, read
/// per event. Erasures are rare, so the whole list fits in memory.
struct Suppression {
    let enabled: Bool
    private var ids: Set<String>
    private let status: PipelineStatusBoard

    init(enabled: Bool, store: StateStore, status: PipelineStatusBoard) throws {
        self.enabled = enabled
        self.status = status
        ids = enabled ? try store.suppressedCustomers() : []
    }

    mutating func add(_ id: String) {
        ids.insert(id)
    }

    /// True (and counted) when `event` is for an erased customer, under its id or its anonymous id.
    func drops(_ event: Event) -> Bool {
        drops(event.customerID, event.anonymousID)
    }

    /// True (and counted) when a Segment identify or alias call ties an erased id: it must not bring them back.
    func drops(_ tie: IdentityTie) -> Bool {
        drops(tie.knownID, tie.anonymousID)
    }

    private func drops(_ id: String, _ other: String?) -> Bool {
        guard enabled, !ids.isEmpty else { return false }
        guard ids.contains(id) || other.map(ids.contains) == true else { return false }
        status.update { $0.eventsSuppressed += 1 }
        return true
    }
}
