import ArgumentParser
import Foundation
import Vigil
import VigilStore

struct GoldenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "golden",
        abstract: "Work with golden sets.",
        subcommands: [Verify.self])

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute every file's sha256 and report missing, changed and unlisted files.",
            discussion: "Exit status: 0 the golden set is intact, 1 files are missing, changed or unlisted, 2 the manifest cannot be read.")

        @Argument(help: "The golden set folder (holding manifest.json).")
        var path: String

        @Flag(help: "Print the findings as JSON.")
        var json = false

        func run() throws {
            let goldenSet = try GoldenSet.load(URL(fileURLWithPath: path))
            var verification = goldenSet.verify()
            verification.root = path.hasSuffix("/") ? String(path.dropLast()) : path
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(verification), as: UTF8.self))
            } else if verification.isValid {
                print("\(verification.root): OK — golden set '\(goldenSet.name)' \(goldenSet.version), "
                      + "\(verification.sampleCount) files verified, identity \(goldenSet.identity)")
            } else {
                verification.problems.forEach { print($0) }
                print("\(verification.root): FAILED — \(verification.missing.count) missing, "
                      + "\(verification.changed.count) changed, \(verification.extra.count) not listed")
            }
            if !verification.isValid { throw ExitCode(1) }
        }
    }
}

struct CorruptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "corrupt",
        abstract: "Write a scenario's version of an image, to see what a scenario does.",
        discussion: """
            The image is transformed exactly as `vigil run` transforms it for a suite with the same \
            seed, when --sample-id is the golden-set sample's id (default: the file name without \
            its extension).

            Example: vigil corrupt GoldenSets/digits/images/3/r15c01.png --scenario low-light --severity 4 -o dark.png
            """)

    @Argument(help: "The input image.")
    var input: String

    @Option(name: .customLong("scenario"), help: "Scenario name (see `vigil scenarios`).")
    var scenarioName: String

    @Option(help: "Severity 1...5 (not for 'clean').")
    var severity: Int?

    @Option(help: "The run seed (a suite's 'seed').")
    var seed: UInt64 = 0

    @Option(help: "Sample id that enters the per-image seed (default: the input's file name without extension).")
    var sampleID: String?

    @Option(name: .shortAndLong, help: "Output image; the extension picks the format (.png is lossless).")
    var output: String

    func run() throws {
        let id = severity.map { "\(scenarioName)@\($0)" } ?? scenarioName
        let scenario = try Scenario(id: id)
        let inputURL = URL(fileURLWithPath: input)
        let sampleID = self.sampleID ?? inputURL.deletingPathExtension().lastPathComponent
        let image = try Image(contentsOf: inputURL)
        let transformed = try scenario.apply(to: image, seed: Seeds.sample(run: seed, scenario: scenario, sampleID: sampleID))
        try transformed.write(to: URL(fileURLWithPath: output))
        print("wrote \(output) (\(scenario.id), seed \(seed), sample id \(sampleID), \(transformed.width)×\(transformed.height))")
    }
}

struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "List stored runs, newest first.")

    @Option(help: "The run store (SQLite). Default: $VIGIL_STORE, else .vigil/history.sqlite.")
    var store: String?

    @Option(help: "How many runs to list.")
    var limit = 20

    @Flag(help: "Print the runs as JSON.")
    var json = false

    func run() throws {
        let path = StoreLocation.resolve(store)
        guard FileManager.default.fileExists(atPath: path) else {
            throw InputError("\(path): no run store here yet (`vigil run` creates it; --store picks another)")
        }
        let runs = try RunStore(path: path).runs(limit: limit)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(runs), as: UTF8.self))
            return
        }
        var rows = [["run", "started (UTC)", "status", "verdict", "suite", "baseline → candidate", "golden set", "commit"]]
        for run in runs {
            let verdict = run.passed.map { $0 ? "pass" : "FAIL" } ?? "—"
            rows.append([run.id, run.startedAt, run.status, verdict, run.suite, "\(run.baseline) → \(run.candidate)",
                         run.goldenSet, run.gitCommit.map { String($0.prefix(10)) + ($0.hasSuffix("+dirty") ? "+dirty" : "") } ?? "—"])
        }
        TerminalReport.layout(rows).forEach { print($0) }
        if runs.isEmpty { print("(no runs)") }
    }
}

struct ScenariosCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scenarios",
        abstract: "List the scenarios and their parameters at each severity.")

    func run() throws {
        for kind in Scenario.Kind.allCases {
            print("\(kind.rawValue): \(kind.summary)")
            guard kind != .clean else { print(""); continue }
            for severity in 1...5 {
                let scenario = Scenario(kind: kind, severity: severity)
                print("  \(severity)  " + scenario.parameters.map { "\($0.name) \($0.value)" }.joined(separator: " · "))
            }
            print("")
        }
    }
}
