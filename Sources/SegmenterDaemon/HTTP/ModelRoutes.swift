import Foundation
import Hummingbird
import Synchronization

/// Write endpoints for operators: model commands and segment names, carried out by the running pipeline between
/// batches and answered once the change is committed.
enum ModelRoutes {
    typealias Submit = @Sendable (ModelCommand) async throws -> String

    static func add(to router: Router<BasicRequestContext>, maxBodyBytes: Int, submit: @escaping Submit) {
        for (path, command) in [("freeze", ModelCommand.freeze), ("unfreeze", .unfreeze), ("retrain", .retrain)] {
            router.post("/v1/model/\(path)") { _, _ in
                await run(command, submit)
            }
        }
        router.post("/v1/model/rollback/:version") { _, context in
            guard let version = context.parameters.get("version").flatMap(Int64.init) else {
                return SegmenterError(.invalidRequest, "the version must be a whole number: /v1/model/rollback/3")
                    .response
            }
            return await run(.rollback(version: version), submit)
        }
        // Erasure (issue 18): carried out between batches, answered once the deletions committed.
        router.delete("/v1/customers/:id") { _, context in
            let id = context.parameters.get("id") ?? ""
            return await run(.erase(customers: [id]), submit)
        }
        router.put("/v1/segments/:id") { request, context in
            guard let id = context.parameters.get("id").flatMap(Int.init) else {
                return SegmenterError(.invalidRequest, "the segment id must be a whole number: /v1/segments/2")
                    .response
            }
            struct Rename: Decodable { var name: String }
            let body = try await request.body.collect(upTo: maxBodyBytes)
            guard let rename = try? JSONDecoder().decode(Rename.self, from: Data(buffer: body)) else {
                return SegmenterError(.invalidRequest, #"send a JSON body {"name": "…"}"#).response
            }
            return await run(.rename(segment: id, name: rename.name), submit)
        }
    }

    private static func run(_ command: ModelCommand, _ submit: Submit) async -> Response {
        do {
            return HTTPServer.json(.ok, ["result": try await submit(command)])
        } catch {
            return SegmenterError(error).response
        }
    }
}

extension Pipeline {
    /// Submits a command and waits (up to `timeout`) until the batch carrying it has committed.
    public func perform(_ command: ModelCommand, timeout: Duration = .seconds(60)) async throws -> String {
        // Whichever comes first, the reply or the timeout, resumes the caller; the other finds nothing to resume.
        let waiting = Waiter()
        return try await withCheckedThrowingContinuation { continuation in
            waiting.slot.withLock { $0 = continuation }
            submit(command) { result in waiting.slot.withLock { $0.take() }?.resume(with: result) }
            Task {
                try? await Task.sleep(for: timeout)
                waiting.slot.withLock { $0.take() }?.resume(throwing: SegmenterError(
                    .timeout, "the daemon did not carry out the command within \(timeout): check its log and /readyz"))
            }
        }
    }
}

/// Holds a caller's continuation until a reply or a timeout takes it.
private final class Waiter: Sendable {
    let slot = Mutex<CheckedContinuation<String, Error>?>(nil)
}
