/// A sum of doubles that does not depend on the order the terms arrive in.
///
/// Floating-point addition is not associative, so a sum accumulated in shards and merged would
/// differ in its last bits from the same sum accumulated in one pass. `ExactSum` keeps the exact
/// value as a list of non-overlapping partials (Shewchuk's algorithm, as in Python's
/// `math.fsum`) and rounds once, correctly, when read. Sharded, parallel and sequential
/// accumulations therefore give bit-identical results.
public struct ExactSum: Sendable, Hashable, Codable {
    private var partials: [Double] = []

    public init() {}

    public mutating func add(_ value: Double) {
        var x = value
        var kept = 0
        for index in partials.indices {
            var y = partials[index]
            if abs(x) < abs(y) { swap(&x, &y) }
            let high = x + y
            let low = y - (high - x)
            if low != 0 {
                partials[kept] = low
                kept += 1
            }
            x = high
        }
        partials.removeSubrange(kept...)
        partials.append(x)
    }

    public mutating func merge(_ other: ExactSum) {
        for value in other.partials { add(value) }
    }

    /// The exact sum, correctly rounded to the nearest double (ties to even).
    public var value: Double {
        var n = partials.count
        guard n > 0 else { return 0 }
        n -= 1
        var high = partials[n]
        var low = 0.0
        while n > 0 {
            let x = high
            n -= 1
            let y = partials[n]
            high = x + y
            let yr = high - x
            low = y - yr
            if low != 0 { break }
        }
        // Half-way case: the discarded remainder decides the rounding direction.
        if n > 0, (low < 0 && partials[n - 1] < 0) || (low > 0 && partials[n - 1] > 0) {
            let y = low * 2
            let x = high + y
            if y == x - high { high = x }
        }
        return high
    }
}
