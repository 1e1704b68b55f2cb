import ArgumentParser
import Foundation
import Vigil
import VigilStore

struct GoldenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "golden",
        abstract: "Work with golden sets.",
        subcommands: [Verify.self, Import.self, Export.self, Rehash.self])

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a golden set from an image folder, a CSV file, COCO annotations or a YOLO data set.",
            discussion: """
                Copies the images into OUTPUT/images/, hashes them and writes OUTPUT/manifest.json, \
                checked as `vigil run` checks any golden set. OUTPUT must not exist or be empty.

                Classification:
                  imagefolder DIR: torchvision's ImageFolder layout, DIR/CLASS/**/image; classes are \
                the subfolders sorted (torchvision's class indices) or --classes in a model's order; \
                files that are not images are skipped and listed. Sample ids are CLASS/PATH without \
                extension. Every image is decoded and every label checked before anything is written.
                  csv FILE --images DIR: a header row with `path` (relative to DIR) and `label`; \
                every other column becomes a tag (empty cells are left out). Classes are the labels \
                sorted, or --classes.
                Detection: COCO annotations (--images: the folder of their file_names) or a YOLO \
                data set (images/, labels/, classes.txt or data.yaml); each image's size is read \
                from the file.

                Examples:
                  vigil golden import imagefolder val -o GoldenSets/val --classes cat,dog,bird
                  vigil golden import csv labels.csv --images photos -o GoldenSets/photos
                  vigil golden import coco instances_val.json --images val2017 -o GoldenSets/coco-val
                  vigil golden import yolo datasets/helmets -o GoldenSets/helmets
                """)

        enum Format: String, ExpressibleByArgument, CaseIterable { case imagefolder, csv, coco, yolo }

        @Argument(help: "imagefolder, csv, coco or yolo.")
        var format: Format

        @Argument(help: "imagefolder: the folder of class folders. csv: the CSV file. COCO: the annotations JSON file. YOLO: the data set folder.")
        var source: String

        @Option(help: "csv and COCO: the folder the file's paths are relative to.")
        var images: String?

        @Option(help: ArgumentHelp("imagefolder and csv: the classes in the order models use (comma-separated).",
                                   valueName: "A,B,…"))
        var classes: String?

        @Option(name: .shortAndLong, help: "The golden set folder to create.")
        var output: String

        @Option(help: "The golden set's name (default: the output folder's name).")
        var name: String?

        @Option(help: "The golden set's version.")
        var version = "1.0.0"

        func run() throws {
            let out = URL(fileURLWithPath: output)
            let set: GoldenSet
            let order = classes.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            if order != nil, format == .coco || format == .yolo {
                throw InputError("--classes is for imagefolder and csv; COCO and YOLO files name their classes")
            }
            switch format {
            case .imagefolder, .csv:
                let report: GoldenSetImport.Report
                if format == .csv {
                    guard let images else { throw InputError("golden import csv needs --images DIR (the folder the CSV's paths are relative to)") }
                    report = try GoldenSetImport.csv(URL(fileURLWithPath: source), images: URL(fileURLWithPath: images), output: out,
                                                     classes: order, name: name, version: version)
                } else {
                    if images != nil { throw InputError("--images is for csv and coco; an image folder holds its images") }
                    report = try GoldenSetImport.imageFolder(URL(fileURLWithPath: source), output: out, classes: order, name: name, version: version)
                }
                let set = report.goldenSet
                let counts = set.classes.map { name in "\(name) \(set.samples.filter { $0.label == name }.count)" }
                print("wrote \(output): golden set '\(set.name)' \(set.version), \(set.samples.count) images in \(set.classes.count) classes "
                      + "(\(counts.joined(separator: ", "))), identity \(set.identity)")
                if !report.skipped.isEmpty {
                    print("skipped \(report.skipped.count) file\(report.skipped.count == 1 ? "" : "s") that are not images: "
                          + report.skipped.prefix(5).joined(separator: ", ") + (report.skipped.count > 5 ? ", …" : ""))
                }
                return
            case .coco:
                guard let images else { throw InputError("golden import coco needs --images DIR (the folder of the images the annotations name)") }
                set = try GoldenSetImport.coco(annotations: URL(fileURLWithPath: source), images: URL(fileURLWithPath: images),
                                               output: out, name: name, version: version)
            case .yolo:
                if images != nil { throw InputError("--images is for coco; a YOLO data set has its images in images/") }
                set = try GoldenSetImport.yolo(URL(fileURLWithPath: source), output: out, name: name, version: version)
            }
            let objects = set.samples.reduce(0) { $0 + ($1.objects?.count ?? 0) }
            print("wrote \(output): golden set '\(set.name)' \(set.version), \(set.samples.count) images, \(objects) objects, "
                  + "\(set.classes.count) classes, identity \(set.identity)")
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a detection golden set as COCO ground truth, for other tools.",
            discussion: """
                Images get ids 1… in manifest order (file_name: the sample's path), categories ids \
                1… in class order, annotations the boxes with area = width × height and iscrowd. \
                Predictions files for `format: predictions` models may use these ids.

                Example: vigil golden export coco GoldenSets/faces -o faces-coco.json
                """)

        enum Format: String, ExpressibleByArgument, CaseIterable { case coco }

        @Argument(help: "coco.")
        var format: Format

        @Argument(help: "The golden set folder.")
        var path: String

        @Option(name: .shortAndLong, help: "The JSON file to write.")
        var output: String

        func run() throws {
            let set = try GoldenSet.load(URL(fileURLWithPath: path))
            let coco = try GoldenSetExport.coco(set)
            try coco.write(to: URL(fileURLWithPath: output))
            print("wrote \(output): \(coco.images.count) images, \(coco.annotations.count) annotations, \(coco.categories.count) categories")
        }
    }

    struct Rehash: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what changed in a golden set's files; with --write, record it in a new version.",
            discussion: """
                Lists files that changed (old and new sha256), are missing, or are not in the \
                manifest. With --write, changed files get their new sha256, missing files' samples \
                are dropped, and the version is bumped (1.0.0 → 1.0.1, or --version); files not in \
                the manifest are refused, because rehashing cannot label them: add them as \
                samples, or list them under "ignore". The identity changes, so stored outcomes of \
                the old version are not reused for the new one.

                Exit status: 0 nothing changed (or --write wrote the new version), 1 changes were \
                found (without --write), 2 the manifest cannot be read or written.
                """)

        @Argument(help: "The golden set folder (holding manifest.json).")
        var path: String

        @Flag(help: "Rewrite manifest.json with the new hashes and version.")
        var write = false

        @Option(help: "The new version (default: the last number of the current one plus one).")
        var version: String?

        func run() throws {
            let goldenSet = try GoldenSet.load(URL(fileURLWithPath: path))
            var verification = goldenSet.verify()
            verification.root = path.hasSuffix("/") ? String(path.dropLast()) : path
            for change in verification.changed {
                print("changed  \(change.path): \(change.expected.prefix(12))… → \(change.actual.prefix(12))…")
            }
            verification.outside.forEach { print("outside  \($0.path) → \($0.target) (a link that leaves the folder)") }
            verification.damaged.forEach { print("damaged  \($0.path): \($0.problem)") }
            verification.missing.forEach { print("missing  \($0)") }
            verification.extra.forEach { print("added    \($0) (not in the manifest)") }
            guard !verification.isValid else {
                print("\(verification.root): nothing changed — golden set '\(goldenSet.name)' \(goldenSet.version), identity \(goldenSet.identity)")
                return
            }
            print("\(verification.changed.count) changed, \(verification.missing.count) missing, \(verification.extra.count) not in the manifest")
            guard write else {
                print("run again with --write to record this as a new version")
                throw ExitCode(1)
            }
            let updated = try goldenSet.write(goldenSet.rehashed(verification, version: version))
            print("wrote \(verification.root)/manifest.json: golden set '\(updated.name)' \(goldenSet.version) → \(updated.version), "
                  + "\(updated.samples.count) samples, identity \(goldenSet.identity.prefix(12))… → \(updated.identity.prefix(12))…")
        }
    }

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
                print(try Output.json(verification))
            } else if verification.isValid {
                print("\(verification.root): OK — golden set '\(goldenSet.name)' \(goldenSet.version), "
                      + "\(verification.sampleCount) files verified, identity \(goldenSet.identity)")
            } else {
                verification.problems.forEach { print($0) }
                print("\(verification.root): FAILED — \(verification.missing.count) missing, "
                      + "\(verification.changed.count) changed, \(verification.extra.count) not listed"
                      + (verification.outside.isEmpty ? "" : ", \(verification.outside.count) outside the folder")
                      + (verification.damaged.isEmpty ? "" : ", \(verification.damaged.count) damaged"))
            }
            if !verification.isValid { throw ExitCode(1) }
        }
    }
}

struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "List stored runs, newest first: verdict, each model's primary metric on clean, sign-off.",
        discussion: "Example: vigil history --suite digits-default --limit 10")

    @Option(help: "The run store (SQLite). Default: $VIGIL_STORE, else .vigil/history.sqlite.")
    var store: String?

    @Option(help: "Only runs of the suite with this name (the suite file's `name`).")
    var suite: String?

    @Option(help: "How many runs to list, 1...100000.")
    var limit = 20

    func validate() throws {
        guard Limits.listedRuns.contains(limit) else { throw ValidationError(Limits.refusal("--limit", limit, Limits.listedRuns)) }
    }

    @Flag(help: "Print the runs as JSON.")
    var json = false

    func run() throws {
        let runs = try StoreLocation.existing(store).runs(limit: limit, suite: suite)
        if json {
            print(try Output.json(runs))
            return
        }
        var rows = [["run", "started (UTC)", "status", "verdict", "suite", "baseline → candidate", "primary metric", "sign-off", "commit"]]
        for run in runs {
            let verdict = run.passed.map { $0 ? "pass" : "FAIL" } ?? "—"
            var metric = "—"
            if let name = run.primaryMetric, let scenario = run.scenario, let key = try? MetricKey(parsing: name) {
                metric = "\(name) on \(scenario): \(Formatting.value(run.baselineValue, key.metric)) → \(Formatting.value(run.candidateValue, key.metric))"
            }
            rows.append([run.id, run.startedAt, run.status, verdict, run.suite, "\(run.baseline) → \(run.candidate)", metric,
                         SignOffText.state(run.signOffs),
                         run.gitCommit.map { String($0.prefix(10)) + ($0.hasSuffix("+dirty") ? "+dirty" : "") } ?? "—"])
        }
        TerminalReport.layout(rows).forEach { print($0) }
        if runs.isEmpty { print(suite.map { "(no runs of suite '\($0)')" } ?? "(no runs)") }
    }
}

enum SignOffText {
    /// "—", "signed: Dana Reyes (QA lead)", "OVERRIDE: Dana Reyes (QA lead)", "+1 more" for several.
    static func state(_ signOffs: [SignOff]) -> String {
        guard let last = signOffs.last else { return "—" }
        let text = "\(last.override == nil ? "signed" : "OVERRIDE"): \(last.by) (\(last.role))"
        return signOffs.count == 1 ? text : text + " +\(signOffs.count - 1) more"
    }
}

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a stored run: its table, verdict, models, golden set and sign-offs.",
        discussion: """
            Reads the run from the store; no model runs. --junit and --markdown write the same \
            files `vigil run` writes (- for standard output).

            Examples:
              vigil show 20261206-101502-3f9a
              vigil show 20261206 --markdown - >> "$GITHUB_STEP_SUMMARY"

            Exit status: 0 the run's gate passed, 1 it failed, 2 the input or the command is wrong \
            (no such run, or a run that did not complete).
            """)

    @Argument(help: "The run id, or a unique prefix of it (see `vigil history`).")
    var runID: String

    @Option(help: "The run store (SQLite). Default: $VIGIL_STORE, else .vigil/history.sqlite.")
    var store: String?

    @Flag(help: "Print the run as JSON (the result as `vigil run --json` prints it, with sign_offs and report_path).")
    var json = false

    @OptionGroup var outputs: PipelineOutputs

    func validate() throws {
        try outputs.validate(json: json)
    }

    func run() throws {
        let store = try StoreLocation.existing(store)
        var stored = try store.storedRun(store.resolveRunID(runID))
        for reporter in outputs.printer(json: json) + outputs.reporters { try reporter.report(&stored) }
        if !json && !outputs.printsToStandardOutput {
            print("Report: \(stored.reportPath ?? "none (the run was made with --no-report, or its report could not be written)")")
        }
        if !stored.result.passed { throw ExitCode(1) }
    }
}
