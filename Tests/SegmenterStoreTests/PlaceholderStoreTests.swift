import Testing
@testable import SegmenterStore

@Test("the Store module links") func StoreLinks() { #expect(Bool(true)) }
