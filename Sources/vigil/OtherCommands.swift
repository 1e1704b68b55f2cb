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
