import Testing
@testable import SegmenterDaemon

@Suite("LRUCache")
struct LRUCacheTests {
    @Test("a full cache evicts the least recently used entry and returns it")
    func evictsLeastRecentlyUsed() {
        var cache = LRUCache<String, Int>(capacity: 3)
        #expect(cache.put("a", 1) == nil)
        #expect(cache.put("b", 2) == nil)
        #expect(cache.put("c", 3) == nil)
        #expect(cache.get("a") == 1)
        let evicted = cache.put("d", 4)
        #expect(evicted?.key == "b")
        #expect(evicted?.value == 2)
        #expect(!cache.contains("b"))
        #expect(cache.leastRecentlyUsed?.key == "c")
    }

    @Test("the cache never holds more than its capacity")
    func respectsBound() {
        var cache = LRUCache<Int, Int>(capacity: 100)
        var evictions = 0
        for key in 0..<10_000 {
            if cache.put(key % 1_000, key) != nil { evictions += 1 }
            #expect(cache.count <= 100)
        }
        #expect(cache.count == 100)
        #expect(evictions == 10_000 - 100)
        #expect((9_900..<10_000).allSatisfy { cache.peek($0 % 1_000) == $0 })
    }

    @Test("peek does not refresh recency, get and modify do")
    func peekGetModifyRecency() {
        var cache = LRUCache<String, [Int]>(capacity: 2)
        cache.put("a", [1])
        cache.put("b", [2])
        #expect(cache.peek("a") == [1])
        #expect(cache.leastRecentlyUsed?.key == "a")
        #expect(cache.modify("a") { $0.append(10); return $0.count } == 2)
        #expect(cache.leastRecentlyUsed?.key == "b")
        #expect(cache.modify("zzz") { $0.append(1) } == nil)
        #expect(cache.put("c", [3])?.key == "b")
        #expect(cache.get("a") == [1, 10])
    }

    @Test("replacing a value keeps the count, remove frees a slot that is reused")
    func replaceAndRemove() {
        var cache = LRUCache<String, Int>(capacity: 2)
        cache.put("a", 1)
        #expect(cache.put("a", 2) == nil)
        #expect(cache.count == 1)
        #expect(cache.peek("a") == 2)
        cache.put("b", 3)
        #expect(cache.remove("a") == 2)
        #expect(cache.remove("a") == nil)
        #expect(cache.put("c", 4) == nil)
        #expect(cache.count == 2)
        #expect(cache.removeLeastRecentlyUsed()?.key == "b")
        #expect(cache.removeLeastRecentlyUsed()?.key == "c")
        #expect(cache.removeLeastRecentlyUsed() == nil)
        #expect(cache.isEmpty)
        #expect(cache.put("d", 5) == nil)
        #expect(cache.get("d") == 5)
    }
}
