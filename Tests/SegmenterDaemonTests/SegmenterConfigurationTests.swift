import Foundation
import SegmenterCore
import Testing

import SegmenterCore
@testable import SegmenterDaemon

@Suite("configuration")
struct SegmenterConfigurationTests {
    /// Loads `yaml` from a temporary file; returns the error's text, or nil when it loaded.
    func problems(_ yaml: String, environment: [String: String] = [:]) throws -> String? {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("segmenter.yaml").path
            try yaml.write(toFile: path, atomically: true, encoding: .utf8)
            do {
                _ = try SegmenterConfiguration.load(path: path, environment: environment)
                return nil
            } catch let error as ConfigurationError {
                #expect(error.description.contains(path), "errors name the file")
                return error.description
            }
        }
    }

    @Test("an unknown field is named, with the closest known field")
    func unknownField() throws {
        let text = try #require(try problems("kafka:\n  group: x\n"))
        #expect(text.contains("kafka.group: unknown field"))
        #expect(text.contains(#"did you mean "group_id""#))
    }

    @Test("text where a number is expected names the field and the value")
    func wrongType() throws {
        let text = try #require(try problems("store:\n  batch_size: lots\n"))
        #expect(text.contains("store.batch_size") && text.contains("\"lots\""))
    }

    @Test("event-time limits: defaults, hours and days, off, and bad values named by field")
    func eventTimeLimits() throws {
        let defaults = try SegmenterConfiguration.load(path: nil, environment: [:]).segmentation.eventTime
        #expect(defaults == EventTimeLimits())
        let set = try SegmenterConfiguration.load(path: nil, environment: [
            "SEGMENTER_MODEL__MAX_EVENT_LEAD_HOURS": "2", "SEGMENTER_MODEL__MAX_EVENT_LAG_DAYS": "off",
            "SEGMENTER_MODEL__EVENT_TIME_WINDOW": "31",
        ]).segmentation.eventTime
        #expect(set == EventTimeLimits(maxLeadMilliseconds: 7_200_000, maxLagMilliseconds: nil, window: 31))
        let text = try #require(try problems(
            "model:\n  max_event_lead_hours: soon\n  max_event_lag_days: -2\n  event_time_window: 0\n"))
        #expect(text.contains("model.max_event_lead_hours: expected a number"))
        #expect(text.contains("model.max_event_lag_days: -2.0 is out of range"))
        #expect(text.contains("model.event_time_window: 0 is out of range"))
    }

    @Test("an out-of-range number names the field, the value and the range")
    func outOfRange() throws {
        let text = try #require(try problems("model:\n  k: 0\n"))
        #expect(text.contains("model.k: 0 is out of range") && text.contains("1 to 1000"))
    }

    @Test("a value outside a fixed set lists the allowed ones")
    func badChoice() throws {
        let text = try #require(try problems("store:\n  synchronous: sometimes\n"))
        #expect(text.contains("store.synchronous") && text.contains("sometimes") && text.contains("full, normal"))
    }

    @Test("input.format chooses a preset, also through SEGMENTER_INPUT__FORMAT; a wrong one lists the formats")
    func inputFormat() throws {
        #expect(try SegmenterConfiguration.load(path: nil, environment: [:]).segmentation.inputFormat == .native)
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("segmenter.yaml").path
            try "input:\n  format: ga4\n".write(toFile: path, atomically: true, encoding: .utf8)
            #expect(try SegmenterConfiguration.load(path: path, environment: [:]).segmentation.inputFormat == .ga4)
            let fromEnvironment = try SegmenterConfiguration.load(
                path: path, environment: ["SEGMENTER_INPUT__FORMAT": "auto"])
            #expect(fromEnvironment.segmentation.inputFormat == .auto)
            let fromFlag = try SegmenterConfiguration.load(
                path: path, environment: [:], overrides: ["input.format": "snowplow"])
            #expect(fromFlag.segmentation.inputFormat == .snowplow)
        }
        let text = try #require(try problems("input:\n  format: amplitude\n"))
        #expect(text.contains("input.format: \"amplitude\" is not one of auto, ga4, native, segment, snowplow"))
        let unknown = try #require(try problems("input:\n  formats: ga4\n"))
        #expect(unknown.contains("input.formats: unknown field"))
    }

    @Test("a malformed listen address is named")
    func badListen() throws {
        let text = try #require(try problems("http:\n  listen: localhost\n"))
        #expect(text.contains("http.listen") && text.contains("localhost"))
    }

    @Test("an unknown event type in a custom feature names the list entry")
    func badEventType() throws {
        let yaml = "features:\n  custom:\n    - name: clicks\n      kind: count\n      events: [clik]\n"
        let text = try #require(try problems(yaml))
        #expect(text.contains("features.custom[0].events") && text.contains("clik"))
    }

    @Test("a ratio of an undefined feature is refused")
    func badRatio() throws {
        let yaml = "features:\n  custom:\n    - name: r\n      kind: ratio\n      numerator: nope\n      denominator: orders_30d\n"
        let text = try #require(try problems(yaml))
        #expect(text.contains("\"nope\""))
    }

    @Test("a cache smaller than two batches is refused with both numbers")
    func cacheTooSmall() throws {
        let text = try #require(try problems("store:\n  batch_size: 1000\n  cache_size: 1500\n"))
        #expect(text.contains("store.cache_size: 1500") && text.contains("2000"))
    }

    @Test("a file that is not YAML, or cannot be read, says so")
    func unreadable() throws {
        let text = try #require(try problems("kafka: [unclosed\n"))
        #expect(text.contains("not valid YAML"))
        #expect(throws: ConfigurationError.self) {
            try SegmenterConfiguration.load(path: "/nonexistent/segmenter.yaml", environment: [:])
        }
    }

    @Test("several mistakes are reported together")
    func allAtOnce() throws {
        let text = try #require(try problems("model:\n  k: 0\nstore:\n  batch_size: -1\n"))
        #expect(text.contains("model.k") && text.contains("store.batch_size"))
    }

    @Test("environment variables override the file and flags override both")
    func precedence() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("c.yaml").path
            try "kafka:\n  bootstrap_servers: file:9092\nmodel:\n  k: 3\n".write(
                toFile: path, atomically: true, encoding: .utf8)
            let fromEnvironment = try SegmenterConfiguration.load(
                path: path, environment: ["SEGMENTER_BROKERS": "env:9092", "SEGMENTER_MODEL__K": "8"])
            #expect(fromEnvironment.kafka.bootstrapServers == "env:9092")
            #expect(fromEnvironment.segmentation.kmeans.k == 8)
            let fromFlags = try SegmenterConfiguration.load(
                path: path, environment: ["SEGMENTER_MODEL__K": "8"], overrides: ["model.k": "4"])
            #expect(fromFlags.segmentation.kmeans.k == 4)
            #expect(fromFlags.kafka.bootstrapServers == "file:9092")
        }
    }

    @Test("the changelog topic defaults to the group's and the input's names, can be renamed or turned off")
    func changelogTopic() throws {
        #expect(try SegmenterConfiguration.load(path: nil, environment: [:]).kafka.changelog
            == "segmenter-events-changelog")
        #expect(try problems("kafka:\n  topics:\n    changelog: off\n") == nil)
        let multi = try #require(try problems("kafka:\n  topics:\n    events: [a, b]\n"))
        #expect(multi.contains("kafka.topics.changelog: a changelog needs exactly one input topic"))
        #expect(try problems("kafka:\n  topics:\n    events: [a, b]\n    changelog: off\n") == nil)
    }

    @Test("the model topic defaults to the group's and the input's names, can be renamed or turned off")
    func modelTopic() throws {
        #expect(try SegmenterConfiguration.load(path: nil, environment: [:]).kafka.model == "segmenter-events-model")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("model-topic-\(UUID()).yaml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        for (text, expected) in [
            ("kafka:\n  group_id: shop\n  topics:\n    events: clicks\n", "shop-clicks-model"),
            ("kafka:\n  topics:\n    model: shared-model\n", "shared-model"),
            ("kafka:\n  topics:\n    model: off\n", nil),
        ] as [(String, String?)] {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            #expect(try SegmenterConfiguration.load(path: path, environment: [:]).kafka.model == expected, "\(text)")
        }
        let empty = try #require(try problems("kafka:\n  topics:\n    model: \"\"\n"))
        #expect(empty.contains("kafka.topics.model: is empty; name a topic, or write off to let each instance learn"))
    }

    @Test("no file gives the documented defaults, and the example file loads unchanged")
    func defaults() throws {
        let c = try SegmenterConfiguration.load(path: nil, environment: [:])
        #expect(c.kafka.eventTopics == ["events"] && c.kafka.changesTopic == "segment-changes")
        #expect(c.kafka.deadLetterTopic == "segmenter-dlq" && c.kafka.groupID == "segmenter")
        #expect(c.store.dataDirectory == "./segmenter-data" && c.http.port == 9464 && c.http.host == "127.0.0.1")
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("segmenter.example.yaml").path
        let loaded = try SegmenterConfiguration.load(path: example, environment: [:])
        #expect(loaded.segmentation.features == c.segmentation.features)
        #expect(loaded.segmentation.kmeans == c.segmentation.kmeans)
    }
}

@Suite("configuration schema and reader agree")
struct ConfigurationSchemaAgreementTests {
    let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("schemas/examples/config")

    @Test("every valid schema example loads, and the daemon refuses every invalid one")
    func schemaExamples() throws {
        for kind in ["valid", "invalid"] {
            let directory = folder.appendingPathComponent(kind)
            let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".json") }
            #expect(!files.isEmpty)
            for file in files {
                let path = directory.appendingPathComponent(file).path
                do {
                    _ = try SegmenterConfiguration.load(path: path, environment: [:])
                    #expect(kind == "valid", "\(file) is invalid for the schema but the daemon accepted it")
                } catch let error as ConfigurationError {
                    #expect(kind == "invalid", "\(file) is valid for the schema but the daemon said: \(error)")
                }
            }
        }
    }
}
