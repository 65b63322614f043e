import Foundation

/// Operator commands (`segmenter model …`, `POST /v1/model/…`) waiting for the pipeline thread. Any thread
/// submits; the pipeline takes them between batches, applies them, and answers each once the batch carrying its
/// effect has committed (or with the error that prevented it).
final class OperatorCommands: @unchecked Sendable {
    typealias Reply = @Sendable (Result<String, Error>) -> Void

    // An NSLock rather than a Mutex: a noncopyable stored property in the pipeline's throwing init crashes the
    // Swift 6.3.1 optimiser (CopyPropagation) in release builds.
    private let lock = NSLock()
    private var queued: [(ModelCommand, Reply)] = []
    /// Applied, answered after the next commit. Pipeline thread only.
    private var answers: [(Reply, Result<String, Error>)] = []

    func submit(_ command: ModelCommand, reply: @escaping Reply) {
        lock.withLock { queued.append((command, reply)) }
    }

    var waiting: Bool { lock.withLock { !queued.isEmpty } }

    /// Applies every queued command with `apply`; returns true when one succeeded (the model must be saved).
    func applyQueued(_ apply: (ModelCommand) throws -> String) -> Bool {
        let pending = lock.withLock {
            defer { queued.removeAll() }
            return queued
        }
        var changed = false
        for (command, reply) in pending {
            let result = Result { try apply(command) }
            if case .success = result { changed = true }
            answers.append((reply, result))
        }
        return changed
    }

    var hasAnswers: Bool { !answers.isEmpty }

    /// The batch committed (`failure` nil) or failed: answers every applied command.
    func answer(failure: Error?) {
        for (reply, result) in answers { reply(failure.map { .failure($0) } ?? result) }
        answers.removeAll()
    }
}
