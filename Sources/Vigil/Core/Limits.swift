/// The ranges of the numeric settings people give, one table for suites, command-line options
/// and the library (README's "Limits" lists them). Values beyond them are refused in one line
/// instead of overflowing or allocating without bound: a million bootstrap replicates of 10 000
/// samples is already 80 MB of resampled indices per pass.
public enum Limits {
    /// Bootstrap replicates (0 turns intervals off).
    public static let bootstrap = 0...1_000_000
    /// Equal-width calibration bins.
    public static let bins = 1...10_000
    /// Images per inference batch.
    public static let batchSize = 1...4096
    /// Parallel workers.
    public static let workers = 1...256
    /// Stored runs one listing shows (`vigil history --limit`).
    public static let listedRuns = 1...100_000
    /// Samples a condition needs before it is checked.
    public static let minSamples = 0...1_000_000

    /// "--bins must be in 1...10000 (got 0)": what a refusal says.
    public static func refusal(_ name: String, _ value: some BinaryInteger, _ range: ClosedRange<Int>) -> String {
        "\(name) must be in \(range.lowerBound)...\(range.upperBound) (got \(value))"
    }
}
