/// The product lines of one preset message (Segment `properties.products`, GA4 `items`, Snowplow product entities),
/// folded while they are read so that no array is kept: the money, the quantity and the first line's category and
/// product id, which is all the native ``Event`` takes from them.
struct ProductLines {
    /// One line while it is read; keys may come in any order, so it is folded in when its object ends.
    struct Line {
        var price: Double?
        var quantity: Double?
        var category: String?
        var productID: String?
    }

    /// Σ price × quantity over the lines with a price (quantity 1 when a line has none).
    private(set) var value: Double?
    /// Σ quantity over the lines with one.
    private(set) var quantity: Double?
    private(set) var firstCategory: String?
    private(set) var firstProductID: String?

    mutating func add(_ line: Line, at index: Int) {
        if let price = line.price { value = (value ?? 0) + price * (line.quantity ?? 1) }
        if let lineQuantity = line.quantity { quantity = (quantity ?? 0) + lineQuantity }
        if index == 0 {
            firstCategory = line.category
            firstProductID = line.productID
        }
    }
}
