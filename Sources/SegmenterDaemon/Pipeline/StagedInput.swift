import SegmenterCore
import SegmenterKafka
import SegmenterStore

/// The pipeline's first step on a poll: each message decoded into what the engine applies — an event, an identity
/// record or tie, a skipped message, or a dead letter ready to publish — and kept, in order, until the poll's
/// customers are loaded and it is applied. Owned by the pipeline thread.
struct StagedInput {
    /// A decoded message of the current poll.
    struct Message {
        enum Content {
            case event(Event)
            /// A record the engine sent itself through the input topic (identity merges).
            case identity(IdentityRecord)
            /// A Segment `identify` or `alias` call: a tie between two ids (counted as skipped: not behaviour).
            case tie(IdentityTie, String)
            /// Well-formed but not behaviour: counted by code.
            case skipped(String)
            /// Rejected: the dead letter to publish and the reason's code.
            case deadLetter(OutboxMessage, String)
        }

        var topic: String
        var partition: Int32
        var offset: Int64
        var timestamp: Int64?
        var content: Content
    }

    private let decoder: EventDecoder
    private let deadLetterTopic: String
    /// The poll's messages, decoded, in order.
    private(set) var staged: [Message] = []

    init(configuration: SegmenterConfiguration) {
        decoder = EventDecoder(
            maxMessageBytes: configuration.kafka.maxMessageBytes, format: configuration.segmentation.inputFormat)
        deadLetterTopic = configuration.kafka.deadLetterTopic
    }

    /// The customers of the staged events, for one preload.
    var customerIDs: some Sequence<String> {
        staged.lazy.compactMap { message -> String? in
            if case .event(let event) = message.content { return event.customerID }
            return nil
        }
    }

    mutating func removeAll() {
        staged.removeAll(keepingCapacity: true)
    }

    /// Decodes a message of the poll; it is applied with the rest of the poll.
    mutating func stage(_ message: SourceMessage) {
        let content: Message.Content
        if IdentityRecord.isRecord(message.value) {
            content = identityContent(message)
        } else {
            switch decoder.decode(message.value) {
            case .success(let event):
                content = .event(event)
            case .failure(let rejection) where !rejection.isDeadLetter:
                content = IdentityTie.segmentCall(message.value).map { .tie($0, rejection.code.rawValue) }
                    ?? .skipped(rejection.code.rawValue)
            case .failure(let rejection):
                content = .deadLetter(deadLetter(message, rejection), rejection.code.rawValue)
            }
        }
        staged.append(Message(
            topic: message.topic, partition: message.partition, offset: message.offset,
            timestamp: message.timestamp, content: content))
    }

    /// A record is recognised by its first bytes; one that does not decode is a dead letter like a bad event.
    private func identityContent(_ message: SourceMessage) -> Message.Content {
        if let record = IdentityRecord.decode(message.value) { return .identity(record) }
        let rejection = EventRejection(
            code: .invalidJSON,
            message: "the message starts like a segmenter identity record but is not one: records are written by "
                + "segmenter itself; do not produce them by hand")
        return .deadLetter(deadLetter(message, rejection), rejection.code.rawValue)
    }

    private func deadLetter(_ message: SourceMessage, _ rejection: EventRejection) -> OutboxMessage {
        let source = "\(message.topic)/\(message.partition)/\(message.offset)"
        return OutboxMessage(
            eventID: "dlq:\(source)", customerID: "", partition: message.partition,
            topic: deadLetterTopic, key: message.key.map { Array($0) },
            payload: Array(message.value),
            headers: [("segmenter.error", Array(rejection.message.utf8)), ("segmenter.source", Array(source.utf8))],
            createdAt: Pipeline.wallClock())
    }
}
