import Foundation

/// A run as reporters see it: just finished, or read back from the store (`vigil show`).
///
/// Reporters run in order after the run is complete and stored; one that writes the HTML
/// report sets `reportPath`, so those after it (Markdown) can point to it.
public struct ReportedRun: Sendable {
    public var result: RunResult
    /// The golden set, loaded, for reporters that draw its images (nil for a stored run whose
    /// golden set is not at hand).
    public var goldenSet: GoldenSet?
    /// Each model's `input:` section, so pictures can show what a model received.
    public var modelInputs: [ModelRole: ModelSpec.Input] {
        var inputs: [ModelRole: ModelSpec.Input] = [:]
        inputs[.baseline] = result.baseline.input
        inputs[.candidate] = result.candidate.input
        return inputs
    }
    /// Scenario images the run kept for the HTML report.
    public var keptImages: KeptScenarioImages?
    /// The run's sign-offs, oldest first.
    public var signOffs: [SignOff]
    /// The HTML report's index.html, once written (relative to the current folder when below it).
    public var reportPath: String?
    /// The run store the run is recorded in (nil for a run without one).
    public var storePath: String?
    /// The suite's primary metric over its stored runs up to this one (nil without a store).
    public var trend: Trend?

    public init(result: RunResult, goldenSet: GoldenSet? = nil, keptImages: KeptScenarioImages? = nil, signOffs: [SignOff] = [],
                reportPath: String? = nil, storePath: String? = nil, trend: Trend? = nil) {
        self.result = result
        self.goldenSet = goldenSet
        self.keptImages = keptImages
        self.signOffs = signOffs
        self.reportPath = reportPath
        self.storePath = storePath
        self.trend = trend
    }
}

/// One output of a run: the terminal table, JSON, JUnit XML, Markdown, the HTML report, or a
/// team's own. Reporters are values; a list of them is handed to ``Evaluation``:
///
/// ```swift
/// struct SlackSummary: RunReporter {
///     func report(_ run: inout ReportedRun) throws {
///         try post(run.result.passed ? "gate passed" : "gate FAILED: \(run.result.failures.count) checks")
///     }
/// }
/// let evaluation = Evaluation(runner: SuiteRunner(suite: suite), store: store,
///                             reporters: [TerminalReporter(), JUnitReporter(file: junitURL), SlackSummary()])
/// ```
public protocol RunReporter: Sendable {
    /// Prints or writes `run`. A reporter that writes the HTML report sets `run.reportPath`.
    func report(_ run: inout ReportedRun) throws
}

/// The scenario × metric table, the verdict and its reasons, on standard output.
public struct TerminalReporter: RunReporter {
    public init() {}

    public func report(_ run: inout ReportedRun) throws {
        var text = TerminalReport.render(run.result)
        if !run.signOffs.isEmpty {
            text += "\n\nSign-offs:\n" + run.signOffs.map { "  " + $0.summary }.joined(separator: "\n")
        }
        print(text)
        print("")
    }
}

/// The run as JSON (`vigil run --json`): the result, with its sign-offs and report path when
/// there are any, on standard output.
public struct JSONReporter: RunReporter {
    public init() {}

    public func report(_ run: inout ReportedRun) throws {
        print(String(decoding: try JSONConvention.encoder().encode(StoredRunJSON(run)), as: UTF8.self))
    }
}

/// What `--json` prints: the result's keys, plus `sign_offs` and `report_path` where known.
struct StoredRunJSON: Encodable {
    var run: ReportedRun

    init(_ run: ReportedRun) { self.run = run }

    enum CodingKeys: String, CodingKey { case signOffs = "sign_offs", reportPath = "report_path" }

    func encode(to encoder: any Encoder) throws {
        try run.result.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        if !run.signOffs.isEmpty { try c.encode(run.signOffs, forKey: .signOffs) }
        try c.encodeIfPresent(run.reportPath, forKey: .reportPath)
    }
}

/// Where a reporter writes its file: a path, or `-` for standard output.
public enum ReportDestination: Sendable, Hashable {
    case standardOutput
    case file(URL)

    /// `-` is standard output; anything else a file path.
    public init(_ argument: String) {
        self = argument == "-" ? .standardOutput : .file(URL(fileURLWithPath: argument))
    }

    /// Writes `text` whole (an atomic write: a temporary file renamed into place), so a CI
    /// step never picks up half a file.
    public func write(_ text: String, what: String) throws {
        switch self {
        case .standardOutput:
            print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
        case .file(let url):
            do {
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(text.utf8).write(to: url, options: .atomic)
            } catch {
                throw InputError("\(DisplayPath.of(url)): cannot write the \(what) (\(FileProblem.describe(error)))")
            }
        }
    }
}
