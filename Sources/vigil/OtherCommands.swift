import ArgumentParser
import Foundation
import Vigil
import VigilStore

struct GoldenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "golden",
        abstract: "Work with golden sets.",
        subcommands: [Verify.self, Import.self, Export.self])

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a detection golden set from COCO annotations or a YOLO data set.",
            discussion: """
                Copies the images into OUTPUT/images/, hashes them, reads each image's size from                 the file, and writes OUTPUT/manifest.json, checked as `vigil run` checks any golden                 set (boxes inside their image, known classes, unique ids). OUTPUT must not exist or                 be empty.

                Examples:
                  vigil golden import coco instances_val.json --images val2017 -o GoldenSets/coco-val
                  vigil golden import yolo datasets/helmets -o GoldenSets/helmets
                """)

        enum Format: String, ExpressibleByArgument, CaseIterable { case coco, yolo }

        @Argument(help: "coco or yolo.")
        var format: Format

        @Argument(help: "COCO: the annotations JSON file. YOLO: the data set folder (images/, labels/, classes.txt or data.yaml).")
        var source: String

        @Option(help: "COCO: the folder the annotations' file_name values are relative to.")
        var images: String?

        @Option(name: .shortAndLong, help: "The golden set folder to create.")
        var output: String

        @Option(help: "The golden set's name (default: the output folder's name).")
        var name: String?

        @Option(help: "The golden set's version.")
        var version = "1.0.0"

        func run() throws {
            let out = URL(fileURLWithPath: output)
            let set: GoldenSet
            switch format {
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
                Images get ids 1… in manifest order (file_name: the sample's path), categories ids                 1… in class order, annotations the boxes with area = width × height and iscrowd.                 Predictions files for `format: predictions` models may use these ids.

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
