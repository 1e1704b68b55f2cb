import ArgumentParser
import Foundation
import Vigil
import VigilReport

struct CorruptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "corrupt",
        abstract: "Write a scenario's version of an image, a folder of images, or a golden set.",
        discussion: """
            INPUT is one image (OUTPUT is then a file), a folder (every image in it, output names \
            mirroring input names under OUTPUT), or a golden set folder (its samples; tag slices \
            apply). Folders are processed in one process, in parallel.

            Images are transformed exactly as `vigil run` transforms them with the same seed: a \
            golden set's images get their manifest sample ids; other images get their path \
            relative to INPUT without the extension (or --sample-id for one image).

            Examples:
              vigil corrupt GoldenSets/digits/images/3/r15c01.png --scenario low-light --severity 4 -o dark.png
              vigil corrupt photos/ --scenario fog --severity 3 --seed 7 -o photos-fog3/
              vigil corrupt photo.jpg --scenario low-light@2+motion-blur@3 -o night-shake.png
            """)

    @Argument(help: "An image, a folder of images, or a golden set folder.")
    var input: String

    @Option(name: .customLong("scenario"), help: "Scenario name or full id (`fog`, `fog@3`, `low-light@2+motion-blur@3`); see `vigil scenarios`.")
    var scenarioName: String

    @Option(help: "Severity 1...5, for a scenario name given without one.")
    var severity: Int?

    @Option(help: "The run seed (a suite's 'seed').")
    var seed: UInt64 = 0

    @Option(help: "Sample id that enters the per-image seed of a single image (default: its file name without extension).")
    var sampleID: String?

    @Option(help: "Parallel workers for folders, 1...256 (default: one per core).")
    var workers: Int?

    @Option(name: .shortAndLong, help: "Output image (for one image; the extension picks the format, .png is lossless) or output folder.")
    var output: String

    @Flag(help: "Print a JSON summary (images, wall_seconds, transform_seconds, workers) instead of a sentence.")
    var json = false

    func run() async throws {
        var id = scenarioName
        if let severity {
            guard !scenarioName.contains("@") else {
                throw InputError("--severity is for a scenario name without one; '\(scenarioName)' already has a severity")
            }
            guard (1...5).contains(severity) else { throw InputError("--severity \(severity) is outside 1...5") }
            id += "@\(severity)"
        }
        let scenario = try Scenario(id: id)
        if let workers, !Limits.workers.contains(workers) { throw InputError(Limits.refusal("--workers", workers, Limits.workers)) }
        let export = try ScenarioExport(input: URL(fileURLWithPath: input), output: URL(fileURLWithPath: output),
                                        scenario: scenario, seed: seed, sampleID: sampleID)
        let summary = try await export.run(workers: workers)
        if json {
            print(String(decoding: try JSONConvention.encoder(pretty: false).encode(summary), as: UTF8.self))
        } else if export.items.count == 1, let item = export.items.first {
            print("wrote \(output) (\(scenario.id), seed \(seed), sample id \(item.sampleID))")
        } else {
            print(String(format: "wrote %d images under %@ (%@, seed %llu) in %.2f s with %d workers; the transform itself took %.2f s of CPU",
                         summary.images, output, scenario.id, seed, summary.wallSeconds, summary.workers, summary.transformSeconds))
        }
    }
}

struct ScenariosCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scenarios",
        abstract: "List the scenarios and their parameters at each severity, or draw a contact sheet.",
        discussion: """
            Hyphenated names are Vigil's camera scenarios; underscored names are the ImageNet-C \
            corruptions with the parameters of PyPI's imagecorruptions 1.1.2 (they need images of \
            at least 32×32 pixels). In a suite, chain scenarios with '+' (low-light@2+motion-blur@3) \
            and select golden-set slices by tags (lighting=night, or lighting=night:fog@2).

            Example: vigil scenarios --sheet photo.png -o sheet.png
            """)

    @Option(help: "Draw every scenario at every severity applied to this image into a PNG contact sheet.")
    var sheet: String?

    @Option(name: .shortAndLong, help: "The contact sheet's output file (with --sheet).")
    var output: String?

    @Option(help: "The seed for the contact sheet's random scenarios.")
    var seed: UInt64 = 0

    func run() throws {
        if let sheet {
            guard let output else { throw InputError("--sheet needs -o OUTPUT.png") }
            let image = try Image(contentsOf: URL(fileURLWithPath: sheet))
            let contact = ScenarioSheet(image: image, seed: seed)
            try contact.render(to: URL(fileURLWithPath: output))
            let skipped = Transform.all.filter { !contact.transforms.contains($0) }
            let small = skipped.filter { !$0.needsObjects }.count, boxed = skipped.filter(\.needsObjects).map(\.name)
            var reasons: [String] = []
            if small > 0 { reasons.append("\(small) ImageNet-C corruptions, which need at least 32×32 pixels") }
            if !boxed.isEmpty { reasons.append("\(boxed.joined(separator: ", ")), which needs a detection golden set's boxes") }
            print("wrote \(output): \(contact.transforms.count) scenarios × severities 1–5 on \(sheet)"
                  + (reasons.isEmpty ? "" : " (left out: \(reasons.joined(separator: "; ")))"))
            return
        }
        guard output == nil else { throw InputError("-o is for --sheet") }
        print("clean: the golden-set images unchanged\n")
        for transform in Transform.all {
            let origin = transform.isImageNetC ? "ImageNet-C" + (transform.isImageNetCBenchmark ? "" : " extra") : "Vigil"
            print("\(transform.name) [\(transform.group.rawValue) · \(origin)]: \(transform.summary)")
            for severity in 1...5 {
                print("  \(severity)  \(transform.parameters(severity: severity))")
            }
            // What a suite's `params:` may set, with the defaults per severity.
            for parameter in transform.parameterCatalogue {
                let defaults = parameter.defaults.map { ($0 * 10_000).rounded() / 10_000 }.map { $0.formatted() }.joined(separator: ", ")
                print("  params: \(parameter.name) = [\(defaults)] (\(parameter.meaning); \(parameter.rangeText))")
            }
            print("")
        }
    }
}
