import Foundation
import SegmenterCore
import SegmenterKafka
import SegmenterStore
import Testing

@testable import SegmenterDaemon

/// The one place where other modules' errors get the daemon's codes, and so their HTTP statuses.
@Suite("daemon errors")
struct SegmenterErrorTests {
    @Test("a store or Kafka error keeps its sentence, takes a code that decides the status, and names its cause")
    func moduleErrors() {
        let missing = SegmenterError(StoreError(code: .databaseMissing, message: "no store yet", path: "/x"))
        #expect(missing.code == .notFound && missing.httpStatus == 404)
        #expect(missing.cause == "store.databaseMissing")
        #expect(missing.message.contains("no store yet"))
        let busy = SegmenterError(StoreError(code: .busy, message: "locked", path: "/x"))
        #expect(busy.httpStatus == 503 && busy.cause == "store.busy")
        let slow = SegmenterError(KafkaError(code: .timeout, message: "no answer in 10 s"))
        #expect(slow.code == .timeout && slow.httpStatus == 504 && slow.cause == "kafka.timeout")
        let down = SegmenterError(KafkaError(code: .unreachable, message: "no broker"))
        #expect(down.code == .unavailable && down.message == "no broker")
    }

    @Test("a daemon error passes through unchanged; anything else is 503 with its description")
    func passThrough() {
        let conflict = SegmenterError(.conflict, "in use")
        #expect(SegmenterError(conflict as any Error) == conflict)
        struct Odd: Error, CustomStringConvertible { var description: String { "odd" } }
        let other = SegmenterError(Odd())
        #expect(other.code == .unavailable && other.message == "odd" && other.cause == nil)
    }

    @Test("every failed request's body carries the sentence, the code and the cause")
    func responseBody() throws {
        let error = SegmenterError(StoreError(code: .corrupt, message: "not a database", path: "/x"))
        #expect(error.response.status.code == 409)
        #expect(error.body["code"] == "conflict")
        #expect(error.body["cause"] == "store.corrupt")
        #expect(error.body["error"]?.contains("not a database") == true)
        #expect(SegmenterError(.notFound, "no such customer").body
            == ["error": "no such customer", "code": "not_found"])
    }

    @Test("a store built with other features is refused with a conflict naming it; the same features pass")
    func featureConflict() throws {
        let spec = SegmentationConfiguration().features
        let other = ["feature_fingerprint": "other", "feature_spec": "orders_30d count"]
        let error = #expect(throws: SegmenterError.self) {
            try DataDirectory.refuseOtherFeatures(than: spec, metadata: { other[$0] }, path: "/data")
        }
        #expect(error?.code == .conflict)
        #expect(error?.message.contains("/data") == true)
        let same = ["feature_fingerprint": spec.fingerprint]
        #expect(throws: Never.self) {
            try DataDirectory.refuseOtherFeatures(than: spec, metadata: { same[$0] }, path: "/data")
        }
    }
}
