import Dispatch
import Foundation
import SegmenterKafka

/// `segmenter broker`: an embedded Kafka cluster in the foreground until SIGINT or SIGTERM, for local
/// development, demos and the benchmark.
public enum BrokerRun {
    /// Starts `brokers` mock brokers with `topics` (name → partitions), prints the bootstrap servers on standard
    /// output (and to `bootstrapFile`, removed again on exit), and returns the signal that stopped it.
    public static func run(brokers: Int, topics: [String: Int32], bootstrapFile: String?) async throws -> Int32 {
        let broker = try EmbeddedBroker(brokers: brokers, topics: topics)
        if let bootstrapFile {
            try Data((broker.bootstrapServers + "\n").utf8).write(
                to: URL(fileURLWithPath: bootstrapFile), options: .atomic)
        }
        // Unbuffered, so that a script reading our output sees the line at once.
        FileHandle.standardOutput.write(Data((broker.bootstrapServers + "\n").utf8))
        let signal = await waitForTerminationSignal()
        broker.stop()
        if let bootstrapFile { try? FileManager.default.removeItem(atPath: bootstrapFile) }
        return signal
    }

    /// Suspends until SIGINT or SIGTERM arrives and returns its number.
    private static func waitForTerminationSignal() async -> Int32 {
        let queue = DispatchQueue(label: "segmenter.broker.signals")
        return await withCheckedContinuation { continuation in
            let sources = [SIGINT, SIGTERM].map { number in
                signal(number, SIG_IGN)
                return DispatchSource.makeSignalSource(signal: number, queue: queue)
            }
            for source in sources {
                source.setEventHandler {
                    // Both sources share a serial queue, so cancelling here keeps the other from firing.
                    for other in sources { other.cancel() }
                    continuation.resume(returning: Int32(source.handle))
                }
                source.resume()
            }
        }
    }
}
