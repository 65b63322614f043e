import Testing
@testable import SegmenterCore

@Test("the Core module links") func CoreLinks() { #expect(Bool(true)) }
