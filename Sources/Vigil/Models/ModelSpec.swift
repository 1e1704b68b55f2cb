import CVBridge
import Foundation

/// Everything the shared backend needs to run a model: the file, how to turn an image into the
/// model's input, and how to read its output. Lives in a YAML file beside the model.
///
/// ```yaml
/// name: mnist-cnn
/// task: classification
/// format: onnx
/// file: mnist_cnn.onnx
/// sha256: eb378a84…
/// input:
///   width: 28
///   height: 28
///   layout: nchw          # nchw | nhwc
///   color: gray           # gray | rgb | bgr
///   resize: stretch       # stretch | pad | letterbox | center-crop
///   interpolation: linear # linear | nearest | area | cubic
///   pad_value: 0          # for pad and letterbox, in 0-255 pixel units
///   scale: 0.00392156862745098
///   mean: [0.1307]        # one value, or one per channel in the model's colour order
///   std: [0.3081]
/// output:
///   kind: logits          # logits (softmax is applied) | probabilities
/// classes: ["0", "1", …]
/// ```
public struct ModelSpec: Sendable, Codable, Hashable {
    public enum Layout: String, Sendable, Codable, CaseIterable { case nchw, nhwc }
    public enum ColorOrder: String, Sendable, Codable, CaseIterable { case gray, rgb, bgr }
    /// How an image of any size becomes `width` x `height`:
    /// - `stretch`: resize to exactly the input size, ignoring aspect ratio;
    /// - `pad`: keep the image's pixels unscaled (shrinking only if it is larger than the input,
    ///   keeping aspect ratio) and centre it on a canvas of `pad_value`;
    /// - `letterbox`: scale up or down to fit inside, keeping aspect ratio, centred on
    ///   `pad_value`;
    /// - `center-crop`: scale so the image covers the input, keeping aspect ratio, then cut out
    ///   the centre.
    public enum ResizeMode: String, Sendable, Codable, CaseIterable {
        case stretch, pad, letterbox
        case centerCrop = "center-crop"
    }
    public enum Interpolation: String, Sendable, Codable, CaseIterable { case linear, nearest, area, cubic }
    public enum OutputKind: String, Sendable, Codable, CaseIterable { case logits, probabilities }

    public struct Input: Sendable, Codable, Hashable {
        public var width: Int
        public var height: Int
        public var layout: Layout
        public var color: ColorOrder
        public var resize: ResizeMode
        public var interpolation: Interpolation
        public var padValue: Double
        public var scale: Double
        public var mean: [Double]
        public var std: [Double]

        public var channels: Int { color == .gray ? 1 : 3 }
    }

    public var name: String
    public var task: VisionTask
    public var format: String
    /// The model file, relative to the spec's folder.
    public var file: String
    public var sha256: String
    public var input: Input
    public var outputKind: OutputKind
    public var classes: [String]
    /// Where the spec was read from (absolute), so `file` can be resolved.
    public var specPath: String

    public var modelURL: URL {
        URL(fileURLWithPath: specPath).deletingLastPathComponent().appendingPathComponent(file)
    }

    /// Identity of what this spec computes, independent of where the files live: the model's
    /// sha256 plus every field that changes its outputs (input handling, output decoding,
    /// classes). Used with the backend's version to key stored outcomes.
    public var computationKey: String {
        let fields: [String] = [
            "format=\(format)", "sha256=\(sha256)", "task=\(task.rawValue)",
            "size=\(input.width)x\(input.height)", "layout=\(input.layout.rawValue)",
            "color=\(input.color.rawValue)", "resize=\(input.resize.rawValue)",
            "interpolation=\(input.interpolation.rawValue)", "pad=\(input.padValue)",
            "scale=\(input.scale)", "mean=\(input.mean)", "std=\(input.std)",
            "output=\(outputKind.rawValue)", "classes=\(classes)",
        ]
        return fields.joined(separator: ";")
    }

    /// Reads and checks a spec. Paths in messages are shown as given (`displayPath`).
    public static func load(_ url: URL, displayPath: String? = nil) throws -> ModelSpec {
        let shown = displayPath ?? url.path
        let document = try YAMLValue.load(url, displayPath: shown)
        let top = try document.mapping("the model spec", allowed: [
            "name", "task", "format", "file", "sha256", "input", "output", "classes",
        ])
        let task = try top.required("task").choice("task", from: VisionTask.allCases.map(\.rawValue))
        let format = try top.required("format").choice("format", from: ["onnx"])
        let sha = try top.required("sha256").string("sha256").lowercased()
        guard sha.count == 64, sha.allSatisfy(\.isHexDigit) else {
            throw try top.required("sha256").error("sha256 must be 64 hexadecimal digits")
        }
        let file = try top.required("file").string("file")
        guard !file.hasPrefix("/") else {
            throw try top.required("file").error("file must be relative to the spec's folder")
        }

        let inputValue = try top.required("input")
        let input = try inputValue.mapping("input", allowed: [
            "width", "height", "layout", "color", "resize", "interpolation", "pad_value", "scale", "mean", "std",
        ])
        let color = ColorOrder(rawValue: try input.required("color").choice("color", from: ColorOrder.allCases.map(\.rawValue)))!
        let channels = color == .gray ? 1 : 3
        func perChannel(_ key: String, default fallback: Double) throws -> [Double] {
            guard let value = input[key] else { return Array(repeating: fallback, count: channels) }
            let numbers: [Double]
            if case .scalar = value.node { numbers = [try value.double(key)] } else { numbers = try value.doubles(key) }
            if numbers.count == 1 { return Array(repeating: numbers[0], count: channels) }
            guard numbers.count == channels else {
                throw value.error("\(key) has \(numbers.count) values but color '\(color.rawValue)' has \(channels) channel(s)")
            }
            return numbers
        }
        let std = try perChannel("std", default: 1)
        if std.contains(0) { throw try input.required("std").error("std must not be zero") }
        let scale = try input["scale"]?.double("scale") ?? 1
        let spec = ModelSpec(
            name: try top.required("name").string("name"),
            task: VisionTask(rawValue: task)!,
            format: format,
            file: file,
            sha256: sha,
            input: Input(
                width: try input.required("width").int("width", in: 1...16384),
                height: try input.required("height").int("height", in: 1...16384),
                layout: Layout(rawValue: try input["layout"]?.choice("layout", from: Layout.allCases.map(\.rawValue)) ?? "nchw")!,
                color: color,
                resize: ResizeMode(rawValue: try input.required("resize").choice("resize", from: ResizeMode.allCases.map(\.rawValue)))!,
                interpolation: Interpolation(rawValue: try input["interpolation"]?.choice("interpolation", from: Interpolation.allCases.map(\.rawValue)) ?? "linear")!,
                padValue: try input["pad_value"]?.double("pad_value") ?? 0,
                scale: scale,
                mean: try perChannel("mean", default: 0),
                std: std),
            outputKind: try {
                let output = try top.required("output").mapping("output", allowed: ["kind"])
                return OutputKind(rawValue: try output.required("kind").choice("kind", from: OutputKind.allCases.map(\.rawValue)))!
            }(),
            classes: try top.required("classes").strings("classes"),
            specPath: url.standardizedFileURL.path)
        guard !spec.classes.isEmpty, Set(spec.classes).count == spec.classes.count else {
            throw try top.required("classes").error("classes must list each class once")
        }
        return spec
    }

    /// The bridge's view of the input section.
    var preprocessing: cvb_preprocess {
        var p = cvb_preprocess()
        p.width = Int32(input.width)
        p.height = Int32(input.height)
        p.color_order = switch input.color {
        case .gray: Int32(CVB_COLOR_GRAY)
        case .rgb: Int32(CVB_COLOR_RGB)
        case .bgr: Int32(CVB_COLOR_BGR)
        }
        p.resize_mode = switch input.resize {
        case .stretch: Int32(CVB_RESIZE_STRETCH)
        case .pad: Int32(CVB_RESIZE_PAD)
        case .letterbox: Int32(CVB_RESIZE_LETTERBOX)
        case .centerCrop: Int32(CVB_RESIZE_CENTER_CROP)
        }
        p.interpolation = switch input.interpolation {
        case .linear: Int32(CVB_INTERP_LINEAR)
        case .nearest: Int32(CVB_INTERP_NEAREST)
        case .area: Int32(CVB_INTERP_AREA)
        case .cubic: Int32(CVB_INTERP_CUBIC)
        }
        p.layout = input.layout == .nchw ? Int32(CVB_LAYOUT_NCHW) : Int32(CVB_LAYOUT_NHWC)
        p.pad_value = input.padValue
        p.scale = input.scale
        let mean = input.mean + Array(repeating: 0, count: 3 - input.mean.count)
        let std = input.std + Array(repeating: 1, count: 3 - input.std.count)
        p.mean = (mean[0], mean[1], mean[2])
        p.std = (std[0], std[1], std[2])
        return p
    }
}
