// Compiled by scripts/bench-decode together with Sources/SegmenterCore into one module (hence no import of it).
import Foundation

/// Decode-only benchmark: every file's lines held in memory, one decoder per format, single thread; the formats are
/// interleaved round by round and each keeps its fastest pass, so that a noisy neighbour hurts them alike.
@main
struct DecodeBench {
    static func main() throws {
        let rounds = Int(ProcessInfo.processInfo.environment["ROUNDS"] ?? "10") ?? 10
        var inputs: [(name: String, decoder: EventDecoder, lines: [[UInt8]], bytes: Int)] = []
        for spec in CommandLine.arguments.dropFirst() {
            let parts = spec.split(separator: "=")
            let data = try Data(contentsOf: URL(fileURLWithPath: String(parts[1])))
            var lines: [[UInt8]] = []
            data.withUnsafeBytes { raw in
                var start = 0
                for i in 0..<raw.count where raw[i] == 10 {
                    lines.append(Array(raw[start..<i]))
                    start = i + 1
                }
            }
            let file = URL(fileURLWithPath: String(parts[1])).deletingPathExtension().lastPathComponent
            let decoder = EventDecoder(format: InputFormat(rawValue: String(parts[0]))!)
            inputs.append(("\(parts[0]) on the \(file) stream", decoder, lines, lines.reduce(0) { $0 + $1.count }))
        }
        var best = [Double](repeating: .infinity, count: inputs.count)
        for _ in 0..<rounds {
            for (index, input) in inputs.enumerated() {
                var ok = 0
                let start = ContinuousClock.now
                for line in input.lines {
                    if case .success = input.decoder.decode(line) { ok += 1 }
                }
                let d = ContinuousClock.now - start
                precondition(ok == input.lines.count, "\(input.name): \(input.lines.count - ok) rejected")
                best[index] = min(best[index], Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18)
            }
        }
        for (index, input) in inputs.enumerated() {
            print(String(format: "%-40@ %9.0f events/s  %5.0f MB/s  %4.0f B/event", input.name as NSString,
                         Double(input.lines.count) / best[index], Double(input.bytes) / best[index] / 1e6,
                         Double(input.bytes) / Double(input.lines.count)))
        }
    }
}
