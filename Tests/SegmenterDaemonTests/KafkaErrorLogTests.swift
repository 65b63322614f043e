import Dispatch
import Logging
import SegmenterKafka
import Testing

@testable import SegmenterDaemon

@Suite("Kafka error log")
struct KafkaErrorLogTests {
    @Test("errors reported from several threads are all counted by code, and each count is taken once")
    func countsAcrossThreads() {
        let log = KafkaErrorLog(logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        DispatchQueue.concurrentPerform(iterations: 400) { i in
            let code: KafkaError.Code = i.isMultiple(of: 4) ? .unreachable : .transient
            let client = i.isMultiple(of: 2) ? "producer" : "consumer"
            log.report(KafkaError(code: code, message: "test \(i)"), client: client)
        }
        #expect(log.takeCounts() == [.unreachable: 100, .transient: 300])
        #expect(log.takeCounts().isEmpty)
    }
}
