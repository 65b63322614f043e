import ArgumentParser
import Foundation
import SegmenterCore

struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write synthetic shopper events as NDJSON, one input event (DESIGN §3) per line.",
        discussion: """
            Customers of six personas (window shoppers, bargain hunters, loyal high-value buyers, one-time \
            buyers, cart abandoners, customers who go dormant) browse, search, cart, buy and refund over the \
            timeline. Events are in timestamp order; the same arguments give byte-identical output.
            """
    )

    @Option(help: "How many customers to simulate; the personas are mixed evenly.")
    var customers = 20_000

    @Option(help: "How many events to write in total.")
    var events = 1_000_000

    @Option(help: "Seed of the random generator; the same seed gives the same events.")
    var seed: UInt64 = 1

    @Option(help: "Write the events to this file instead of standard output.")
    var output: String?

    @Option(help: "Also write every customer's true persona to this CSV file (customer_id,persona).")
    var truth: String?

    @Option(help: "Start of the timeline, as an RFC 3339 timestamp.")
    var start = "2026-01-01T00:00:00Z"

    @Option(help: "Length of the timeline in days; the events are spread over it.")
    var days = 56

    func validate() throws {
        guard customers >= 1 else { throw ValidationError("--customers must be at least 1, got \(customers)") }
        guard events >= 0 else { throw ValidationError("--events must be 0 or more, got \(events)") }
        guard days >= 1 else { throw ValidationError("--days must be at least 1, got \(days)") }
        guard RFC3339.parse(start) != nil else {
            throw ValidationError("--start \"\(start)\" is not an RFC 3339 timestamp; write e.g. 2026-01-01T00:00:00Z")
        }
    }

    func run() async throws {
        var shoppers = SyntheticShoppers(
            customers: customers, events: events, seed: seed, start: RFC3339.parse(start)!, days: days
        )
        var eventsOut = try BufferedFile(path: output)
        while let event = shoppers.next() {
            try eventsOut.writeLine(event.jsonLine())
        }
        try eventsOut.flush()
        if let truth {
            var truthOut = try BufferedFile(path: truth)
            try truthOut.writeLine("customer_id,persona")
            for (customerID, persona) in shoppers.truth {
                try truthOut.writeLine(customerID + "," + persona.rawValue)
            }
            try truthOut.flush()
        }
    }
}

/// Lines collected into large writes: one `write` per line would make output, not generation, the bottleneck.
private struct BufferedFile {
    private let handle: FileHandle
    private let path: String
    private var buffer: [UInt8] = []

    /// Creates (or truncates) the file at `path`; `nil` means standard output.
    init(path: String?) throws {
        buffer.reserveCapacity(1 << 20)
        guard let path else {
            handle = .standardOutput
            self.path = "standard output"
            return
        }
        self.path = path
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else {
            throw OutputError(description: "cannot create \(path): check that its directory exists and is writable")
        }
        self.handle = handle
    }

    mutating func writeLine(_ line: String) throws {
        buffer.append(contentsOf: line.utf8)
        buffer.append(UInt8(ascii: "\n"))
        if buffer.count >= 1 << 20 { try flush() }
    }

    mutating func flush() throws {
        do {
            try handle.write(contentsOf: buffer)
        } catch {
            throw OutputError(
                description: "cannot write to \(path) (\(error.localizedDescription)): check free space and permissions"
            )
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

/// A failure to write output; printed as its sentence, without the usage text meant for bad arguments.
private struct OutputError: Error, CustomStringConvertible {
    var description: String
}
