import Foundation

@testable import SegmenterCore

/// The CDNOW purchase data sets that the `lifetimes` package ships, fetched at test time (never committed) with
/// `python3 -m pip download --no-deps lifetimes` into a temporary directory, and cut into the paper's split:
/// purchases through 1997-09-30 calibrate, the next 39 weeks (273 days) are the holdout.
struct CDNOWData {
    struct FetchError: Error, CustomStringConvertible {
        var description: String
    }

    /// One customer: their calibration summary and what they did in the holdout.
    struct Customer {
        var summary = ActivitySummary()
        var holdoutPurchaseDays = 0
        var holdoutValue = 0.0
    }

    static let dayMs: Int64 = 86_400_000
    /// 1997-09-30T00:00:00Z: the end of calibration (purchases on that day are in it; data is by day).
    static let calibrationEnd: Int64 = 875_577_600_000
    static let holdoutDays = 273

    var customers: [Customer]

    /// The 2,357-customer sample of the paper (`CDNOW_sample.txt`) and all 23,570 customers (`CDNOW_master.txt`),
    /// fetched once per test process.
    static let files: Result<(sample: String, master: String), FetchError> = Result { try fetch() }
        .mapError { $0 as? FetchError ?? FetchError(description: "\($0)") }

    static func sample() throws -> CDNOWData { try CDNOWData(text: files.get().sample) }
    static func master() throws -> CDNOWData { try CDNOWData(text: files.get().master) }

    private static func fetch() throws -> (sample: String, master: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cdnow-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try run(["python3", "-m", "pip", "download", "--no-deps", "--quiet", "lifetimes", "-d", directory.path])
        let wheels = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".whl") }
        guard let wheel = wheels.first else {
            throw FetchError(description: "pip downloaded no lifetimes wheel into \(directory.path)")
        }
        try run(["python3", "-m", "zipfile", "-e", directory.appendingPathComponent(wheel).path, directory.path])
        let datasets = directory.appendingPathComponent("lifetimes/datasets")
        return try (
            String(contentsOf: datasets.appendingPathComponent("CDNOW_sample.txt"), encoding: .utf8),
            String(contentsOf: datasets.appendingPathComponent("CDNOW_master.txt"), encoding: .utf8))
    }

    /// Runs a command to its end (no child outlives the call) and fails with its output when it does not succeed.
    private static func run(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw FetchError(description: """
                could not fetch the CDNOW data (`\(arguments.joined(separator: " "))` exited with \
                \(process.terminationStatus)): \(text.suffix(600)) — these tests need python3 with pip and access \
                to PyPI; install them or point pip at a mirror (PIP_INDEX_URL).
                """)
        }
    }

    /// Parses lines `<customer id> [<sample id>] <yyyymmdd> <cds> <dollars>` (a header line is skipped): a
    /// purchase event per line, at midnight UTC of its day.
    init(text: String) throws {
        var byID: [Substring: Int] = [:]
        var customers: [Customer] = []
        var holdoutDays: [Int: Set<Int64>] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let fields = line.split(whereSeparator: \.isWhitespace)
            guard fields.count >= 4, fields[0].allSatisfy(\.isNumber) else { continue }
            let date = fields[fields.count - 3]
            guard let value = Double(fields[fields.count - 1]), let time = Self.midnight(date) else {
                throw FetchError(description: "unreadable CDNOW line: \(line)")
            }
            let index = byID[fields[0]] ?? {
                customers.append(Customer())
                byID[fields[0]] = customers.count - 1
                return customers.count - 1
            }()
            if time <= Self.calibrationEnd {
                customers[index].summary.record(at: time, isPurchase: true, value: value)
            } else if time <= Self.calibrationEnd + Int64(Self.holdoutDays) * Self.dayMs {
                holdoutDays[index, default: []].insert(time)
                customers[index].holdoutValue += value
            }
        }
        for (index, days) in holdoutDays {
            customers[index].holdoutPurchaseDays = days.count
        }
        self.customers = customers.filter { !$0.summary.isEmpty }
    }

    private static func midnight(_ date: Substring) -> Int64? {
        guard date.count == 8, let n = Int(date) else { return nil }
        var components = DateComponents()
        (components.year, components.month, components.day) = (n / 10_000, n / 100 % 100, n % 100)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.date(from: components).map { Int64($0.timeIntervalSince1970 * 1000) }
    }
}
