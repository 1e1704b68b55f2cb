import Foundation

extension ModelSpec {
    public enum OutputKind: String, Sendable, Codable, CaseIterable { case logits, probabilities, detections }
}

/// How a network's output is read, the `output:` section of a model spec, shared by every
/// format that runs a network (OpenCV DNN, served models):
/// - `kind: logits`: one raw score per class; Vigil applies softmax;
/// - `kind: probabilities`: one probability per class (the graph ends in a softmax);
/// - `kind: detections` with a decoder (see `DetectionDecoding`).
public struct ModelOutput: Sendable, Hashable {
    public var kind: ModelSpec.OutputKind
    public var decoding: DetectionDecoding?

    public init(kind: ModelSpec.OutputKind, decoding: DetectionDecoding? = nil) {
        self.kind = kind
        self.decoding = decoding
    }

    var computationFields: [String] {
        ["output=\(kind.rawValue)"] + (decoding.map { ["decoding=\($0.key)"] } ?? [])
    }

    static func parse(_ section: ModelSpecSection) throws -> ModelOutput {
        let output = try section.mapping.required("output").mapping("output", allowed: ["kind"] + DetectionDecoding.keys)
        let kindValue = try output.required("kind")
        let kinds: [ModelSpec.OutputKind] = section.task == .classification ? [.logits, .probabilities] : [.detections]
        let kind = ModelSpec.OutputKind(rawValue: try kindValue.choice("kind", from: kinds.map(\.rawValue)))!
        if kind == .detections {
            return ModelOutput(kind: kind, decoding: try DetectionDecoding.parse(output, classes: section.classes.count))
        }
        if let extra = output.entries.first(where: { $0.key != "kind" }) {
            throw extra.value.error("'\(extra.key)' is for detection outputs (kind: detections)")
        }
        return ModelOutput(kind: kind)
    }
}

/// Turns a classifier's output rows into probabilities, and stops a run whose outputs cannot
/// be what the spec says, before they become plausible-looking metrics:
/// - a value that is NaN or infinite, in any batch: the model and the sample are named;
/// - in the first batch a worker sees: `logits` whose every row is non-negative and sums to 1
///   within 1e-4 (the graph already ends in a softmax, and a second one would flatten the
///   probabilities: calibration metrics would be wrong), and `probabilities` with a negative
///   value or a row sum more than 1e-3 from 1 (the tolerance `vigil score` allows).
///
/// Every problem is an `InputError` (exit status 2).
public struct ClassifierOutputReader: Sendable {
    public let kind: ModelSpec.OutputKind
    public let classes: Int
    /// Names the model in messages (its spec's path).
    public let model: String
    private var checkedKind = false

    public static let logitsTolerance = 1e-4

    public init(kind: ModelSpec.OutputKind, classes: Int, model: String) {
        self.kind = kind
        self.classes = classes
        self.model = model
    }

    /// `values` holds `inputs.count` rows of `classes` values.
    public mutating func probabilities(_ values: [Float], for inputs: [ModelInput]) throws -> [[Float]] {
        precondition(values.count == inputs.count * classes, "one row of class scores per input")
        let rows = (0..<inputs.count).map { values[($0 * classes)..<(($0 + 1) * classes)] }
        for (row, input) in zip(rows, inputs) where row.contains(where: { !$0.isFinite }) {
            let bad = row.first { !$0.isFinite }!
            throw InputError("\(model): the output for \(Self.describe(input)) contains \(bad.isNaN ? "NaN" : "an infinite value"); "
                             + "the run stops here (check the model and its input with `vigil model check \(model) --image IMAGE`)")
        }
        if !checkedKind {
            checkedKind = true
            try checkKind(rows, inputs)
        }
        return kind == .logits ? rows.map(softmax) : rows.map(Array.init)
    }

    private func checkKind(_ rows: [ArraySlice<Float>], _ inputs: [ModelInput]) throws {
        let sums = rows.map { $0.reduce(0.0) { $0 + Double($1) } }
        switch kind {
        case .logits:
            let probabilityLike = zip(rows, sums).allSatisfy { row, sum in
                row.allSatisfy { $0 >= 0 } && abs(sum - 1) <= Self.logitsTolerance
            }
            if probabilityLike {
                throw InputError("\(model): outputs are already probabilities; set kind: probabilities "
                                 + "(every row of the first batch is non-negative and sums to 1; a second softmax would flatten them)")
            }
        case .probabilities:
            for (index, (row, sum)) in zip(rows, sums).enumerated() {
                if let negative = row.first(where: { $0 < 0 }) {
                    throw InputError("\(model): outputs are not probabilities (\(Self.describe(inputs[index])) has \(Formatting.number(Double(negative)))); set kind: logits")
                }
                if abs(sum - 1) > ClassificationFiles.probabilityTolerance {
                    throw InputError("\(model): outputs are not probabilities (the row of \(Self.describe(inputs[index])) sums to \(String(format: "%.6g", sum))); set kind: logits")
                }
            }
        case .detections:
            preconditionFailure("a classifier's output kind")
        }
    }

    static func describe(_ input: ModelInput) -> String {
        input.sampleID.isEmpty ? "the image" : "sample '\(input.sampleID)' (scenario \(input.scenarioID))"
    }
}

extension DetectionDecoding {
    /// Stops a run at a detector output that is NaN or infinite, naming the model and the
    /// sample (`values` holds the outputs one after the other, each `shapes[k]`, batch first).
    static func checkFinite(_ values: [Float], shapes: [[Int]], inputs: [ModelInput], model: String) throws {
        guard let bad = values.firstIndex(where: { !$0.isFinite }) else { return }
        var offset = 0, image = 0
        for dims in shapes {
            let count = dims.reduce(1, *)
            if bad < offset + count {
                image = (bad - offset) / max(1, count / max(1, dims.first ?? 1))
                break
            }
            offset += count
        }
        let input = inputs[min(image, inputs.count - 1)]
        throw InputError("\(model): the output for \(ClassifierOutputReader.describe(input)) contains \(values[bad].isNaN ? "NaN" : "an infinite value"); "
                         + "the run stops here (check the model and its input with `vigil model check \(model) --image IMAGE`)")
    }
}
