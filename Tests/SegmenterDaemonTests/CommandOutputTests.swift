import Foundation
import Testing

@testable import SegmenterDaemon

/// Issue #14: `segmenter export` (and every command writing through `OutputFile`) printed nothing to a pipe or a
/// redirected file. These run the real executable with its standard output connected each way.
@Suite("command output to a pipe and a file", .serialized, .timeLimit(.minutes(2)))
struct CommandOutputTests {
    /// Runs `command` through `/bin/sh -c` (with `$SEGMENTER` set) so the shell wires the pipe or the redirection.
    func shell(_ command: String) throws -> (status: Int32, output: String) {
        try runToEnd(URL(fileURLWithPath: "/bin/sh"), ["-c", command],
                     environment: ["SEGMENTER": segmenterExecutable.path, "PATH": "/usr/bin:/bin"])
    }

    @Test("segmenter export piped into another process, redirected to a file, and with --output: every row")
    func exportToPipeAndFile() throws {
        try withTemporaryDirectory { directory in
            let (configuration, _) = try ModelAdministrationTests().trainedStore(in: directory)
            let data = configuration.store.dataDirectory
            let csv = directory.appendingPathComponent("out.csv").path
            let viaOption = directory.appendingPathComponent("option.csv").path

            let piped = try shell(#""$SEGMENTER" export --data-dir '\#(data)' | wc -l"#)
            #expect(piped.status == 0)
            #expect(piped.output.trimmingCharacters(in: .whitespacesAndNewlines) == "501", "header + 500 customers")

            let ndjson = try shell(#""$SEGMENTER" export --data-dir '\#(data)' --format ndjson | grep -c customer_id"#)
            #expect(ndjson.output.trimmingCharacters(in: .whitespacesAndNewlines) == "500")

            let redirected = try shell(#""$SEGMENTER" export --data-dir '\#(data)' > '\#(csv)'"#)
            #expect(redirected.status == 0)
            let file = try String(contentsOfFile: csv, encoding: .utf8)
            #expect(file.split(separator: "\n").count == 501)
            #expect(file.hasPrefix("customer_id,segment_id,segment_name"))

            _ = try shell(#"echo first > '\#(csv)'; "$SEGMENTER" export --data-dir '\#(data)' >> '\#(csv)'"#)
            let appended = try String(contentsOfFile: csv, encoding: .utf8)
            #expect(appended.hasPrefix("first\ncustomer_id,"), "appending keeps what was there")
            #expect(appended.split(separator: "\n").count == 502)

            _ = try shell(#""$SEGMENTER" export --data-dir '\#(data)' --output '\#(viaOption)'"#)
            #expect(try String(contentsOfFile: viaOption, encoding: .utf8) == file)
        }
    }

    @Test("segmenter generate piped and redirected writes every event")
    func generateToPipeAndFile() throws {
        try withTemporaryDirectory { directory in
            let piped = try shell(#""$SEGMENTER" generate --customers 20 --events 300 | wc -l"#)
            #expect(piped.output.trimmingCharacters(in: .whitespacesAndNewlines) == "300")
            let path = directory.appendingPathComponent("events.ndjson").path
            _ = try shell(#""$SEGMENTER" generate --customers 20 --events 300 > '\#(path)'"#)
            #expect(try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").count == 300)
        }
    }

    @Test("an output path that cannot be written fails with a message naming it and the option")
    func unwritableOutput() throws {
        let result = try shell(#""$SEGMENTER" generate --customers 2 --events 3 --output /nonexistent/dir/x.ndjson"#)
        #expect(result.status != 0)
        #expect(result.output.contains("/nonexistent/dir/x.ndjson"))
        #expect(result.output.contains("--output"))
    }
}
