import CVBridge
import Foundation

/// How an image becomes a network's input, the `input:` section of a model spec. Every format
/// that feeds pixels to a network (OpenCV DNN, served models) uses this one definition and the
/// bridge's one implementation, so baseline and candidate can never be preprocessed differently.
///
/// ```yaml
/// input:
///   width: 224
///   height: 224
///   layout: nchw          # nchw | nhwc
///   color: rgb            # gray | rgb | bgr (images are decoded as BGR)
///   resize: center-crop   # stretch | pad | letterbox | center-crop | fit-height
///   anchor: center        # pad and letterbox: center | top-left
///   crop_fraction: 0.875  # center-crop: 0.875 is Resize(256) + CenterCrop(224)
///   crop_rounding: torchvision  # center-crop: torchvision | paddle (PaddleClas' ResizeImage)
///   interpolation: linear # linear | nearest | area | cubic | lanczos
///   antialias: true       # resample as Pillow (and torchvision on PIL images) does
///   pad_value: 0          # for pad, letterbox and fit-height, in 0-255 pixel units
///   scale: 0.00392156862745098
///   mean: [0.485, 0.456, 0.406]  # one value, or one per channel in the model's colour order
///   std: [0.229, 0.224, 0.225]
/// ```
/// Order: colour conversion, geometry (scale, then pad, letterbox or crop), then per channel
/// (x · scale − mean) / std.
extension ModelSpec {
    public enum Layout: String, Sendable, Codable, CaseIterable { case nchw, nhwc }
    public enum ColorOrder: String, Sendable, Codable, CaseIterable { case gray, rgb, bgr }
    /// How an image of any size becomes `width` x `height`:
    /// - `stretch`: resize to exactly the input size, ignoring aspect ratio;
    /// - `pad`: keep the image's pixels unscaled (shrinking only if it is larger than the input,
    ///   keeping aspect ratio) and place it on a canvas of `pad_value`;
    /// - `letterbox`: scale up or down to fit inside, keeping aspect ratio, on `pad_value`;
    /// - `center-crop`: scale, keeping aspect ratio, so the image covers
    ///   (width / `crop_fraction`) × (height / `crop_fraction`), then cut out the centre
    ///   width × height. The covering side becomes floor(side / F), the other side
    ///   floor(that × its length / the covering side's length), and the crop's offsets are
    ///   rounded half to even: the arithmetic of torchvision's `Resize(int)` + `CenterCrop` and
    ///   of timm's `crop_pct`, so `crop_fraction: 0.875` on a 224 input is `Resize(256)` +
    ///   `CenterCrop(224)`;
    /// - `fit-height`: PaddleOCR's text-line resize: scale to the input's height, width
    ///   ceil(height × the image's aspect ratio) but at most the input's width (wider images are
    ///   squeezed), placed at the left edge on `pad_value`.
    /// How center-crop rounds the scaled size and the crop's position (see `ResizeMode`).
    public enum CropRounding: String, Sendable, Codable, CaseIterable {
        /// torchvision's Resize(int) + CenterCrop and timm: the other side floor(), offsets
        /// rounded half to even.
        case torchvision
        /// PaddleClas' ResizeImage(resize_short) + CropImage (PaddleOCR, RapidAI's models): both
        /// sides rounded half to even, offsets floor().
        case paddle
    }

    public enum ResizeMode: String, Sendable, Codable, CaseIterable {
        case stretch, pad, letterbox
        case centerCrop = "center-crop"
        case fitHeight = "fit-height"
    }
    /// Where `pad` and `letterbox` place the image on the canvas: centred (padding on all
    /// sides), or in the top-left corner (padding right and bottom, as YOLOX's preprocessing).
    public enum Anchor: String, Sendable, Codable, CaseIterable {
        case center
        case topLeft = "top-left"
    }
    /// The resampling filter. Without `antialias` these are OpenCV's `cv::resize` modes
    /// (`INTER_LINEAR`, `INTER_NEAREST`, `INTER_AREA`, `INTER_CUBIC` with a = −0.75,
    /// `INTER_LANCZOS4`), on float pixels. With `antialias: true` the image is resampled as
    /// Pillow's `Image.resize` does, byte for byte: `linear` is BILINEAR, `cubic` BICUBIC
    /// (a = −0.5), `lanczos` LANCZOS (three lobes), `area` BOX, each filter widened by the
    /// downscale factor; `nearest` has nothing to antialias and is refused with it.
    public enum Interpolation: String, Sendable, Codable, CaseIterable { case linear, nearest, area, cubic, lanczos }

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
        /// center-crop only: the crop's share of the scaled image's side, in (0, 1].
        public var cropFraction: Double
        /// center-crop only: whose arithmetic rounds the scaled size and the offsets.
        public var cropRounding: CropRounding
        /// Resample as Pillow does (see `Interpolation`).
        public var antialias: Bool

        public init(width: Int, height: Int, layout: Layout = .nchw, color: ColorOrder, resize: ResizeMode,
                    anchor: Anchor = .center, interpolation: Interpolation = .linear, padValue: Double = 0,
                    scale: Double = 1, mean: [Double], std: [Double], cropFraction: Double = 1,
                    cropRounding: CropRounding = .torchvision, antialias: Bool = false) {
            self.width = width
            self.height = height
            self.layout = layout
            self.color = color
            self.resize = resize
            self.anchor = anchor
            self.interpolation = interpolation
            self.padValue = padValue
            self.scale = scale
            self.mean = mean
            self.std = std
            self.cropFraction = cropFraction
            self.cropRounding = cropRounding
            self.antialias = antialias
        }

        enum CodingKeys: String, CodingKey {
            case width, height, layout, color, resize, anchor, interpolation, padValue = "pad_value", scale, mean, std,
                 cropFraction = "crop_fraction", cropRounding = "crop_rounding", antialias
        }

        public var channels: Int { color == .gray ? 1 : 3 }

        /// The fields that change the tensor, for identities. Options at their defaults are left
        /// out, so specs that do not use them keep their identities.
        var key: [String] {
            var fields = [
                "size=\(width)x\(height)", "layout=\(layout.rawValue)",
                "color=\(color.rawValue)", "resize=\(resize.rawValue)",
                "interpolation=\(interpolation.rawValue)", "pad=\(padValue)",
                "scale=\(scale)", "mean=\(mean)", "std=\(std)",
            ]
            if anchor != .center { fields.append("anchor=\(anchor.rawValue)") }
            if cropFraction != 1 { fields.append("crop_fraction=\(cropFraction)") }
            if cropRounding != .torchvision { fields.append("crop_rounding=\(cropRounding.rawValue)") }
            if antialias { fields.append("antialias") }
            return fields
        }

        /// The preprocessing in one line, as `vigil model check` prints it.
        public var summary: String {
            var parts = ["\(width)×\(height) \(layout.rawValue) \(color.rawValue)", resize.rawValue]
            if resize == .centerCrop {
                parts[1] += " (" + (cropFraction != 1 ? "crop_fraction \(Formatting.number(cropFraction)), " : "") + "\(cropRounding.rawValue) rounding)"
            }
            if anchor != .center { parts[1] += " (\(anchor.rawValue))" }
            parts.append(interpolation.rawValue + (antialias ? " antialiased (Pillow)" : " (OpenCV)"))
            if [.pad, .letterbox, .fitHeight].contains(resize) { parts.append("pad \(Formatting.number(padValue))") }
            let numbers = { (values: [Double]) in values.map { Formatting.number($0) }.joined(separator: ", ") }
            parts.append("x·\(String(format: "%.6g", scale)), mean [\(numbers(mean))], std [\(numbers(std))]")
            return parts.joined(separator: " · ")
        }
    }
}

extension ModelSpec {
    /// Reads an `input:` section (for every format whose backend preprocesses images).
    static func parseInput(_ inputValue: YAMLValue) throws -> Input {
        let input = try inputValue.mapping("input", allowed: [
            "width", "height", "layout", "color", "resize", "anchor", "interpolation", "pad_value", "scale", "mean", "std",
            "crop_fraction", "crop_rounding", "antialias",
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
        let interpolation = Interpolation(rawValue: try input["interpolation"]?.choice("interpolation", from: Interpolation.allCases.map(\.rawValue)) ?? "linear")!
        let cropFraction = try input["crop_fraction"].map { value in
            guard resize == .centerCrop else {
                throw value.error("'crop_fraction' goes with resize: center-crop (torchvision's Resize + CenterCrop, timm's crop_pct)")
            }
            let fraction = try value.double("crop_fraction")
            guard fraction > 0, fraction <= 1 else {
                throw value.error("crop_fraction must be in (0, 1], e.g. 0.875 for Resize(256) + CenterCrop(224)")
            }
            return fraction
        } ?? 1
        let cropRounding = try input["crop_rounding"].map { value in
            guard resize == .centerCrop else { throw value.error("'crop_rounding' goes with resize: center-crop") }
            return CropRounding(rawValue: try value.choice("crop_rounding", from: CropRounding.allCases.map(\.rawValue)))!
        } ?? .torchvision
        let antialias = try input["antialias"].map { value in
            guard let flag = value.node.bool else { throw value.error("antialias must be true or false") }
            if flag, interpolation == .nearest {
                throw value.error("antialias: true needs a filter (linear, cubic, lanczos or area); nearest neighbour has none")
            }
            return flag
        } ?? false
        return Input(
            width: try input.required("width").int("width", in: 1...16384),
            height: try input.required("height").int("height", in: 1...16384),
            layout: Layout(rawValue: try input["layout"]?.choice("layout", from: Layout.allCases.map(\.rawValue)) ?? "nchw")!,
            color: color,
            resize: resize,
            anchor: anchor,
            interpolation: interpolation,
            padValue: try input["pad_value"]?.double("pad_value") ?? 0,
            scale: try input["scale"]?.double("scale") ?? 1,
            mean: try perChannel("mean", default: 0),
            std: std,
            cropFraction: cropFraction,
            cropRounding: cropRounding,
            antialias: antialias)
    }
}

extension ModelSpec.Input {
    /// The tensor shape of a batch: [batch, channels, height, width] or [batch, height, width,
    /// channels].
    public func shape(batch: Int) -> [Int] {
        layout == .nchw ? [batch, channels, height, width] : [batch, height, width, channels]
    }

    /// The input tensor of a batch of images, one after the other in `layout`. `model` names the
    /// model in messages.
    public func tensor(_ images: [Image], model: String) throws -> [Float] {
        let perImage = width * height * channels
        var tensor = [Float](repeating: 0, count: images.count * perImage)
        var p = preprocessing
        try tensor.withUnsafeMutableBufferPointer { buffer in
            for (index, image) in images.enumerated() {
                try Bridge.check("preprocessing for \(model)") { error in
                    cvb_preprocess_image(image.pointer, &p, buffer.baseAddress! + index * perImage, perImage, error)
                }
            }
        }
        return tensor
    }

    /// `image` as this section hands it to the network before `scale`, `mean` and `std`:
    /// converted to the model's colour order, resized, cropped or padded, rounded to 8 bits and
    /// shown in BGR (or grey). Reports show it as the image the model saw.
    public func view(of image: Image) throws -> Image {
        var p = preprocessing
        return Image(taking: try Bridge.call("preprocessing") { error in
            cvb_preprocess_view(image.pointer, &p, error)
        })
    }

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
        case .fitHeight: Int32(CVB_RESIZE_FIT_HEIGHT)
        }
        p.interpolation = switch interpolation {
        case .linear: Int32(CVB_INTERP_LINEAR)
        case .nearest: Int32(CVB_INTERP_NEAREST)
        case .area: Int32(CVB_INTERP_AREA)
        case .cubic: Int32(CVB_INTERP_CUBIC)
        case .lanczos: Int32(CVB_INTERP_LANCZOS)
        }
        p.layout = layout == .nchw ? Int32(CVB_LAYOUT_NCHW) : Int32(CVB_LAYOUT_NHWC)
        p.anchor = anchor == .center ? Int32(CVB_ANCHOR_CENTER) : Int32(CVB_ANCHOR_TOP_LEFT)
        p.pad_value = padValue
        p.crop_fraction = cropFraction
        p.crop_rounding = cropRounding == .paddle ? Int32(CVB_CROP_ROUNDING_PADDLE) : Int32(CVB_CROP_ROUNDING_TORCHVISION)
        p.antialias = antialias ? 1 : 0
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

