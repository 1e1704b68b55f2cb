import Foundation

/// One metric of a suite's scenarios over its stored runs, oldest first: what a review reads to
/// see drift across releases (`vigil trend`, and the chart in each run's report).
///
/// A report's trend ends at its own run, so a report rebuilt later (`vigil report`) shows the
/// same runs as the one written when it ran.
public struct Trend: Sendable, Hashable, Codable {
    public var suite: String
    public var metric: MetricKey
    /// The scenarios shown, in the newest run's order.
    public var scenarios: [String]
    public var runs: [Run]

    /// Runs a report's chart shows by default.
    public static let defaultRuns = 10

    public struct Run: Sendable, Hashable, Codable {
        public var id: String
        public var startedAt: String
        public var passed: Bool?
        public var baseline: String
        public var candidate: String
        /// Per scenario id: each model's value (nil where undefined, or the scenario was not in the run).
        public var values: [String: Values]

        enum CodingKeys: String, CodingKey { case id, startedAt = "started_at", passed, baseline, candidate, values }

        public init(id: String, startedAt: String, passed: Bool?, baseline: String, candidate: String, values: [String: Values]) {
            self.id = id
            self.startedAt = startedAt
            self.passed = passed
            self.baseline = baseline
            self.candidate = candidate
            self.values = values
        }
    }

    public struct Values: Sendable, Hashable, Codable {
        public var baseline: Double?
        public var candidate: Double?

        public init(baseline: Double?, candidate: Double?) {
            self.baseline = baseline
            self.candidate = candidate
        }
    }

    enum CodingKeys: String, CodingKey { case suite, metric, scenarios, runs }

    public init(suite: String, metric: MetricKey, scenarios: [String], runs: [Run]) {
        self.suite = suite
        self.metric = metric
        self.scenarios = scenarios
        self.runs = runs
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        suite = try c.decode(String.self, forKey: .suite)
        metric = try MetricKey(parsing: c.decode(String.self, forKey: .metric))
        scenarios = try c.decode([String].self, forKey: .scenarios)
        runs = try c.decode([Run].self, forKey: .runs)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(suite, forKey: .suite)
        try c.encode(metric.description, forKey: .metric)
        try c.encode(scenarios, forKey: .scenarios)
        try c.encode(runs, forKey: .runs)
    }

    /// The table `vigil trend` prints: a row per scenario, a column per run (oldest left), each
    /// cell the candidate's value; a last column with the change from the first run to the last.
    public var table: String {
        guard !runs.isEmpty else { return "No complete runs of suite '\(suite)' in the store." }
        var lines = ["\(metric) of the candidate on suite '\(suite)', \(runs.count) run\(runs.count == 1 ? "" : "s"), oldest first"]
        let header = ["scenario"] + runs.map(\.id) + ["change"]
        var rows: [[String]] = [header]
        for scenario in scenarios {
            let values = runs.map { $0.values[scenario]?.candidate }
            let known = values.compactMap { $0 }
            let change = known.count >= 2 ? Formatting.signedDelta(known.last! - known.first!, metric.metric) : "—"
            rows.append([scenario] + values.map { Formatting.value($0, metric.metric) } + [change])
        }
        rows.append(["candidate"] + runs.map { String($0.candidate.prefix(15)) } + [""])
        rows.append(["gate"] + runs.map { $0.passed.map { $0 ? "PASS" : "FAIL" } ?? "—" } + [""])
        lines += TerminalReport.layout(rows, rightAligned: Set(1..<header.count))
        return lines.joined(separator: "\n")
    }
}
