import CVBridge
import Foundation

/// Everything the shared backend needs to run a model: the file, how to turn an image into the
/// model's input, and how to read its output. Lives in a YAML file beside the model.
///
/// A classifier through OpenCV DNN:
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
///   anchor: center        # pad and letterbox: center | top-left
///   interpolation: linear # linear | nearest | area | cubic
///   pad_value: 0          # for pad and letterbox, in 0-255 pixel units
///   scale: 0.00392156862745098
///   mean: [0.1307]        # one value, or one per channel in the model's colour order
///   std: [0.3081]
/// output:
///   kind: logits          # logits (softmax is applied) | probabilities
/// classes: ["0", "1", …]
/// ```
///
/// A detector through OpenCV DNN (`output.kind: detections`, see `DetectionDecoding`), an
/// OpenCV cascade classifier (`format: cascade`, see `CascadeSettings`), or detections made
/// elsewhere (`format: predictions`, see `PredictionFiles`):
/// ```yaml
/// name: haar-frontalface-default
/// task: detection
/// format: cascade
/// file: haarcascade_frontalface_default.xml
/// sha256: …
/// cascade: {scale_factor: 1.1, min_neighbors: 1, min_size: 24}
/// classes: [face]
/// ```
public struct ModelSpec: Sendable, Hashable {
    public enum Format: String, Sendable, Codable, CaseIterable {
        /// An ONNX graph run by OpenCV's DNN module.
        case onnx
        /// An OpenCV Haar or LBP cascade classifier (XML), a detector.
        case cascade
        /// Detections made elsewhere, read from COCO results files.
        case predictions
    }
    public enum Layout: String, Sendable, Codable, CaseIterable { case nchw, nhwc }
    public enum ColorOrder: String, Sendable, Codable, CaseIterable { case gray, rgb, bgr }
    /// How an image of any size becomes `width` x `height`:
    /// - `stretch`: resize to exactly the input size, ignoring aspect ratio;
    /// - `pad`: keep the image's pixels unscaled (shrinking only if it is larger than the input,
    ///   keeping aspect ratio) and place it on a canvas of `pad_value`;
    /// - `letterbox`: scale up or down to fit inside, keeping aspect ratio, on `pad_value`;
    /// - `center-crop`: scale so the image covers the input, keeping aspect ratio, then cut out
    ///   the centre.
    public enum ResizeMode: String, Sendable, Codable, CaseIterable {
        case stretch, pad, letterbox
        case centerCrop = "center-crop"
    }
    /// Where `pad` and `letterbox` place the image on the canvas: centred (padding on all
    /// sides), or in the top-left corner (padding right and bottom, as YOLOX's preprocessing).
    public enum Anchor: String, Sendable, Codable, CaseIterable {
        case center
        case topLeft = "top-left"
    }
    public enum Interpolation: String, Sendable, Codable, CaseIterable { case linear, nearest, area, cubic }
    public enum OutputKind: String, Sendable, Codable, CaseIterable { case logits, probabilities, detections }

    public struct Input: Sendable, Codable, Hashable {
        public var width: Int
        public var height: Int
        public var layout: Layout
        public var color: ColorOrder
        public var resize: ResizeMode
        public var anchor: Anchor
        public var interpolation: Interpolation
        public var padValue: Double
        public var scale: Double
        public var mean: [Double]
        public var std: [Double]

        public var channels: Int { color == .gray ? 1 : 3 }
    }

    public var name: String
    public var task: VisionTask
    public var format: Format
    /// The model file (ONNX graph, cascade XML, or the clean images' results file), relative to
    /// the spec's folder.
    public var file: String
    /// sha256 of `file`. Required for ONNX and cascade models; for predictions files optional
    /// (when given it is checked).
    public var sha256: String?
    /// How images become the network's input (ONNX only).
    public var input: Input?
    /// How the network's output is read (ONNX only).
    public var outputKind: OutputKind?
    /// How a detection network's outputs become boxes (ONNX detectors only).
    public var decoding: DetectionDecoding?
    /// Detection settings of a cascade classifier.
    public var cascade: CascadeSettings?
    /// Results files of scenario images, by scenario id (predictions only; `file` holds the
    /// clean images' results).
    public var scenarioFiles: [String: String]
    /// Filtering of a detector's boxes: score floor, class-wise NMS, a per-image cap.
    public var postprocessing: DetectionPostprocessing?
    public var classes: [String]
    /// Where the spec was read from (absolute), so `file` can be resolved.
    public var specPath: String

    public var folder: URL { URL(fileURLWithPath: specPath).deletingLastPathComponent() }

    public var modelURL: URL { folder.appendingPathComponent(file) }

    /// Identity of what this spec computes, independent of where the files live: the model's
    /// sha256 plus every field that changes its outputs (input handling, output decoding,
    /// classes). Used with the backend's version to key stored outcomes. Classifiers keep the
    /// fields (and so the identities) they had before detection existed.
    public var computationKey: String {
        var fields: [String] = ["format=\(format.rawValue)", "sha256=\(sha256 ?? "")", "task=\(task.rawValue)"]
        if let input {
            fields += [
                "size=\(input.width)x\(input.height)", "layout=\(input.layout.rawValue)",
                "color=\(input.color.rawValue)", "resize=\(input.resize.rawValue)",
                "interpolation=\(input.interpolation.rawValue)", "pad=\(input.padValue)",
                "scale=\(input.scale)", "mean=\(input.mean)", "std=\(input.std)",
            ]
            if input.anchor != .center { fields.append("anchor=\(input.anchor.rawValue)") }
        }
        if let outputKind { fields.append("output=\(outputKind.rawValue)") }
        if let decoding { fields.append("decoding=\(decoding.key)") }
        if let cascade { fields.append("cascade=\(cascade.key)") }
        if let postprocessing { fields.append("postprocess=\(postprocessing.key)") }
        fields.append("classes=\(classes)")
        return fields.joined(separator: ";")
    }

    /// Reads and checks a spec. Paths in messages are shown as given (`displayPath`).
    public static func load(_ url: URL, displayPath: String? = nil) throws -> ModelSpec {
        let shown = displayPath ?? url.path
        let document = try YAMLValue.load(url, displayPath: shown)
        let top = try document.mapping("the model spec", allowed: [
            "name", "task", "format", "file", "sha256", "input", "output", "cascade", "scenario_files", "postprocess", "classes",
        ])
        let task = VisionTask(rawValue: try top.required("task").choice("task", from: VisionTask.allCases.map(\.rawValue)))!
        let format = Format(rawValue: try top.required("format").choice("format", from: Format.allCases.map(\.rawValue)))!
        let file = try top.required("file").string("file")
        guard !file.hasPrefix("/") else {
            throw try top.required("file").error("file must be relative to the spec's folder")
        }
        var sha: String?
        if let value = top["sha256"] {
            let text = try value.string("sha256").lowercased()
            guard text.count == 64, text.allSatisfy(\.isHexDigit) else { throw value.error("sha256 must be 64 hexadecimal digits") }
            sha = text
        } else if format != .predictions {
            _ = try top.required("sha256")
        }
        let classes = try top.required("classes").strings("classes")
        guard !classes.isEmpty, Set(classes).count == classes.count else {
            throw try top.required("classes").error("classes must list each class once")
        }
        /// Keys that belong to other formats or tasks are refused by name, not ignored.
        func refuse(_ key: String, _ reason: String) throws {
            if let value = top[key] { throw value.error("'\(key)' \(reason)") }
        }
        if task == .classification && format != .onnx {
            throw try top.required("format").error("format '\(format.rawValue)' is for detection; classifiers are ONNX models")
        }

        var spec = ModelSpec(name: try top.required("name").string("name"), task: task, format: format, file: file,
                             sha256: sha, input: nil, outputKind: nil, decoding: nil, cascade: nil, scenarioFiles: [:],
                             postprocessing: nil, classes: classes, specPath: url.standardizedFileURL.path)
        switch format {
        case .onnx:
            try refuse("cascade", "is for format cascade")
            try refuse("scenario_files", "is for format predictions")
            spec.input = try parseInput(try top.required("input"))
            let output = try top.required("output").mapping("output", allowed: ["kind"] + DetectionDecoding.keys)
            let kindValue = try output.required("kind")
            let kinds: [OutputKind] = task == .classification ? [.logits, .probabilities] : [.detections]
            let kind = OutputKind(rawValue: try kindValue.choice("kind", from: kinds.map(\.rawValue)))!
            spec.outputKind = kind
            if kind == .detections {
                spec.decoding = try DetectionDecoding.parse(output, classes: classes.count)
            } else if let extra = output.entries.first(where: { $0.key != "kind" }) {
                throw extra.value.error("'\(extra.key)' is for detection outputs (kind: detections)")
            }
        case .cascade:
            try refuse("input", "is for ONNX models (a cascade works on the grey image at its own size)")
            try refuse("output", "is for ONNX models")
            try refuse("scenario_files", "is for format predictions")
            spec.cascade = try CascadeSettings.parse(try top.required("cascade"))
            guard classes.count == 1 else {
                throw try top.required("classes").error("a cascade detects one class; list exactly one")
            }
        case .predictions:
            try refuse("input", "is for ONNX models")
            try refuse("output", "is for ONNX models")
            try refuse("cascade", "is for format cascade")
            if let files = top["scenario_files"] {
                for (scenario, value) in try files.mapping("scenario_files", allowed: nil).entries {
                    do { _ = try Scenario(id: scenario) } catch let error as InputError { throw value.error(error.message) }
                    let path = try value.string("the results file of '\(scenario)'")
                    guard !path.hasPrefix("/") else { throw value.error("results files must be relative to the spec's folder") }
                    spec.scenarioFiles[scenario] = path
                }
            }
        }
        if task == .detection {
            spec.postprocessing = try DetectionPostprocessing.parse(top["postprocess"], format: format)
        } else {
            try refuse("postprocess", "is for detectors")
        }
        return spec
    }

    static func parseInput(_ inputValue: YAMLValue) throws -> Input {
        let input = try inputValue.mapping("input", allowed: [
            "width", "height", "layout", "color", "resize", "anchor", "interpolation", "pad_value", "scale", "mean", "std",
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
        let resize = ResizeMode(rawValue: try input.required("resize").choice("resize", from: ResizeMode.allCases.map(\.rawValue)))!
        let anchor = try input["anchor"].map { value in
            guard resize == .pad || resize == .letterbox else { throw value.error("'anchor' goes with resize pad or letterbox") }
            return Anchor(rawValue: try value.choice("anchor", from: Anchor.allCases.map(\.rawValue)))!
        } ?? .center
        return Input(
            width: try input.required("width").int("width", in: 1...16384),
            height: try input.required("height").int("height", in: 1...16384),
            layout: Layout(rawValue: try input["layout"]?.choice("layout", from: Layout.allCases.map(\.rawValue)) ?? "nchw")!,
            color: color,
            resize: resize,
            anchor: anchor,
            interpolation: Interpolation(rawValue: try input["interpolation"]?.choice("interpolation", from: Interpolation.allCases.map(\.rawValue)) ?? "linear")!,
            padValue: try input["pad_value"]?.double("pad_value") ?? 0,
            scale: try input["scale"]?.double("scale") ?? 1,
            mean: try perChannel("mean", default: 0),
            std: std)
    }
}

extension ModelSpec.Input {
    /// The bridge's view of this section.
    var preprocessing: cvb_preprocess {
        var p = cvb_preprocess()
        p.width = Int32(width)
        p.height = Int32(height)
        p.color_order = switch color {
        case .gray: Int32(CVB_COLOR_GRAY)
        case .rgb: Int32(CVB_COLOR_RGB)
        case .bgr: Int32(CVB_COLOR_BGR)
        }
        p.resize_mode = switch resize {
        case .stretch: Int32(CVB_RESIZE_STRETCH)
        case .pad: Int32(CVB_RESIZE_PAD)
        case .letterbox: Int32(CVB_RESIZE_LETTERBOX)
        case .centerCrop: Int32(CVB_RESIZE_CENTER_CROP)
        }
        p.interpolation = switch interpolation {
        case .linear: Int32(CVB_INTERP_LINEAR)
        case .nearest: Int32(CVB_INTERP_NEAREST)
        case .area: Int32(CVB_INTERP_AREA)
        case .cubic: Int32(CVB_INTERP_CUBIC)
        }
        p.layout = layout == .nchw ? Int32(CVB_LAYOUT_NCHW) : Int32(CVB_LAYOUT_NHWC)
        p.anchor = anchor == .center ? Int32(CVB_ANCHOR_CENTER) : Int32(CVB_ANCHOR_TOP_LEFT)
        p.pad_value = padValue
        p.scale = scale
        let mean = mean + Array(repeating: 0, count: 3 - mean.count)
        let std = std + Array(repeating: 1, count: 3 - std.count)
        p.mean = (mean[0], mean[1], mean[2])
        p.std = (std[0], std[1], std[2])
        return p
    }

    /// Where preprocessing puts the pixels of an image of `width` x `height` in the input.
    func mapping(imageWidth: Int, imageHeight: Int) -> InputMapping {
        var p = preprocessing
        var m = InputMapping(scaleX: 1, scaleY: 1, offsetX: 0, offsetY: 0, imageWidth: imageWidth, imageHeight: imageHeight)
        let status = cvb_preprocess_mapping(Int32(imageWidth), Int32(imageHeight), &p, &m.scaleX, &m.scaleY, &m.offsetX, &m.offsetY)
        precondition(status == 0, "preprocessing mapping of a checked spec")
        return m
    }
}

/// How preprocessing placed one image in a network's input (input = image × scale + offset,
/// per axis), so detections can be mapped back.
struct InputMapping {
    var scaleX: Double, scaleY: Double, offsetX: Double, offsetY: Double
    var imageWidth: Int, imageHeight: Int

    /// A box in the input's pixels as a box in the image's, clipped to the image; nil when
    /// nothing of it is left.
    func toImage(_ box: Box) -> Box? {
        let x0 = (box.x - offsetX) / scaleX, y0 = (box.y - offsetY) / scaleY
        let x1 = (box.x + box.width - offsetX) / scaleX, y1 = (box.y + box.height - offsetY) / scaleY
        let left = min(max(x0, 0), Double(imageWidth)), right = min(max(x1, 0), Double(imageWidth))
        let top = min(max(y0, 0), Double(imageHeight)), bottom = min(max(y1, 0), Double(imageHeight))
        guard right > left, bottom > top else { return nil }
        return Box(x: left, y: top, width: right - left, height: bottom - top)
    }
}

/// How a cascade classifier is run (OpenCV's `detectMultiScale` parameters).
///
/// ```yaml
/// cascade:
///   scale_factor: 1.1         # image shrink between scales (> 1)
///   min_neighbors: 1          # raw windows an object needs; each box's score is its count
///   min_size: 24              # smallest object side in pixels (default: the cascade's window)
///   max_size: 0               # largest object side (0: no limit)
///   equalize_histogram: true  # cv::equalizeHist on the grey image first (default true)
/// ```
/// Cascades give no probabilities: a box's score is the number of raw detection windows OpenCV
/// grouped into it. A low `min_neighbors` keeps weak boxes so that precision–recall curves
/// (AP) have a range of scores; the suite's `score_threshold` then sets the operating point, so
/// `score_threshold: 3` reports what `min_neighbors: 3` would detect.
public struct CascadeSettings: Sendable, Hashable, Codable {
    public var scaleFactor: Double
    public var minNeighbors: Int
    public var minSize: Int
    public var maxSize: Int
    public var equalizeHistogram: Bool

    var key: String { "\(scaleFactor),\(minNeighbors),\(minSize),\(maxSize),\(equalizeHistogram)" }

    static func parse(_ value: YAMLValue) throws -> CascadeSettings {
        let m = try value.mapping("cascade", allowed: ["scale_factor", "min_neighbors", "min_size", "max_size", "equalize_histogram"])
        let scale = try m["scale_factor"]?.double("scale_factor") ?? 1.1
        guard scale > 1, scale <= 4 else { throw try m.required("scale_factor").error("scale_factor must be above 1 (and at most 4), e.g. 1.1") }
        let equalize: Bool
        if let flag = m["equalize_histogram"] {
            guard let bool = flag.node.bool else { throw flag.error("equalize_histogram must be true or false") }
            equalize = bool
        } else {
            equalize = true
        }
        return CascadeSettings(scaleFactor: scale,
                               minNeighbors: try m["min_neighbors"]?.int("min_neighbors", in: 0...1000) ?? 1,
                               minSize: try m["min_size"]?.int("min_size", in: 0...100_000) ?? 0,
                               maxSize: try m["max_size"]?.int("max_size", in: 0...100_000) ?? 0,
                               equalizeHistogram: equalize)
    }
}

/// What is done to a detector's boxes before they are scored, the same for baseline and
/// candidate because it lives in the shared backend:
/// 1. boxes scoring below `min_score` are dropped;
/// 2. class-wise non-maximum suppression: within a class, in descending score order, a box is
///    dropped when its IoU with a kept box exceeds `nms_iou` (continuous coordinates, no "+1");
/// 3. at most `max_detections` boxes per image are kept, highest scores first.
///
/// ```yaml
/// postprocess: {min_score: 0.01, nms_iou: 0.45, max_detections: 100}
/// ```
/// Defaults: ONNX detectors `min_score` 0.01, `nms_iou` 0.45, `max_detections` 100; cascades
/// and predictions files no NMS (they arrive grouped) and no score floor, `max_detections`
/// unlimited.
public struct DetectionPostprocessing: Sendable, Hashable, Codable {
    public var minScore: Double?
    public var nmsIoU: Double?
    public var maxDetections: Int?

    public init(minScore: Double? = nil, nmsIoU: Double? = nil, maxDetections: Int? = nil) {
        self.minScore = minScore
        self.nmsIoU = nmsIoU
        self.maxDetections = maxDetections
    }

    var key: String { "\(minScore.map { "\($0)" } ?? "-"),\(nmsIoU.map { "\($0)" } ?? "-"),\(maxDetections.map { "\($0)" } ?? "-")" }

    static func parse(_ value: YAMLValue?, format: ModelSpec.Format) throws -> DetectionPostprocessing {
        var result = format == .onnx ? DetectionPostprocessing(minScore: 0.01, nmsIoU: 0.45, maxDetections: 100)
                                     : DetectionPostprocessing(minScore: nil, nmsIoU: nil, maxDetections: nil)
        guard let value else { return result }
        let m = try value.mapping("postprocess", allowed: ["min_score", "nms_iou", "max_detections"])
        if let v = m["min_score"] { result.minScore = try v.double("min_score") }
        if let v = m["nms_iou"] {
            let iou = try v.double("nms_iou")
            guard iou > 0, iou <= 1 else { throw v.error("nms_iou must be in (0, 1], e.g. 0.45") }
            result.nmsIoU = iou
        }
        if let v = m["max_detections"] { result.maxDetections = try v.int("max_detections", in: 1...100_000) }
        return result
    }
}
