import Foundation

/// A model spec tried on one image before it costs a run: the model's declared inputs and
/// outputs, the preprocessing in one line, the checks its backend passed on creation, and what
/// the model says about the image (top classes or detections), with the output checks of a
/// run's first batch. `vigil model check` prints it.
///
/// ```swift
/// let check = try await ModelCheck.run(spec: URL(fileURLWithPath: "Models/orientation/model.yaml"),
///                                      image: URL(fileURLWithPath: "photo.jpg"))
/// print(check.top(5))
/// ```
/// Every problem is an `InputError`: the spec's, the backend's (file, hash, import, shapes,
/// server), or the output's (NaN, logits that are already probabilities, probabilities that do
/// not sum to 1).
public struct ModelCheck: Sendable {
    public var spec: ModelSpec
    public var specShown: String
    public var interface: [String]
    public var checks: [String]
    public var footprint: ModelFootprint
    public var imageShown: String
    public var imageWidth: Int, imageHeight: Int
    public var prediction: Prediction
    /// The network's input for the image, when the format preprocesses (see `ModelSpec.Input`).
    public var inputTensor: [Float]?

    /// `sampleID` names the image in messages when it is a golden-set sample.
    public static func run(spec url: URL, image imageURL: URL, sampleID: String = "") async throws -> ModelCheck {
        let specShown = DisplayPath.of(url)
        let spec = try ModelSpec.load(url, displayPath: specShown)
        let backend = try await Backends.make(spec)
        let image = try Image(contentsOf: imageURL)
        let imageShown = DisplayPath.of(imageURL)
        let worker = try backend.makeWorker()
        let input = ModelInput(image: image, sampleID: sampleID, scenarioID: "clean")
        guard let prediction = try await worker.predict([input]).first else {
            throw InputError("\(specShown): the backend returned no prediction for \(imageShown)")
        }
        var checks = backend.checks
        if spec.task == .classification {
            checks.append("outputs are finite")
            let sum = prediction.probabilities.reduce(0.0) { $0 + Double($1) }
            if let kind = (spec.settings as? any ClassifierOutputSettings)?.output.kind {
                checks.append(kind == .logits ? "kind logits: the outputs are not probabilities already (softmax applied)"
                                              : "kind probabilities: the outputs sum to \(String(format: "%.6f", sum))")
            }
        }
        return ModelCheck(spec: spec, specShown: specShown, interface: backend.interface, checks: checks,
                          footprint: backend.footprint, imageShown: imageShown,
                          imageWidth: image.width, imageHeight: image.height, prediction: prediction,
                          inputTensor: try spec.input?.tensor([image], model: spec.name))
    }

    /// The `count` most probable classes (classifiers), most probable first.
    public func top(_ count: Int) -> [(className: String, probability: Float)] {
        let ranked = prediction.probabilities.indices.sorted {
            prediction.probabilities[$0] != prediction.probabilities[$1] ? prediction.probabilities[$0] > prediction.probabilities[$1] : $0 < $1
        }
        return ranked.prefix(count).map { (spec.classes[$0], prediction.probabilities[$0]) }
    }
}

/// Settings of a format that reads class scores with a `ModelOutput` section.
public protocol ClassifierOutputSettings: ModelSettings {
    var output: ModelOutput { get }
}

extension ONNXSpec: ClassifierOutputSettings {}

/// A tensor as a NumPy `.npy` file (format 1.0, little-endian float32, C order), so Vigil's
/// network input can be compared with another pipeline's (`np.load`).
public enum NumpyFile {
    public static func data(_ values: [Float], shape: [Int]) -> Data {
        precondition(shape.reduce(1, *) == values.count, "the shape covers the values")
        let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims)), }"
        // Magic (6) + version (2) + length (2) + header, padded with spaces to 64 bytes, ending in \n.
        let total = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(header.utf8))
        values.withUnsafeBufferPointer { buffer in
            for value in buffer {
                withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
            }
        }
        return data
    }
}
