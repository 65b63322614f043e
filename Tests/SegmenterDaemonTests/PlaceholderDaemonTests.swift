import Testing
@testable import SegmenterDaemon

@Test("the Daemon module links") func DaemonLinks() { #expect(Bool(true)) }
