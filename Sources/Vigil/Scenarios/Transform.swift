import CVBridge
import Foundation

/// One image transform a scenario can apply at severities 1 (mildest) … 5 (harshest): one of
/// Vigil's camera scenarios (`low-light`, `motion-blur`, …, hyphenated names) or one of the
/// ImageNet-C corruptions with the parameters of PyPI's `imagecorruptions` 1.1.2 (its
/// underscored names, `gaussian_noise`, `motion_blur`, …).
///
/// Every transform keeps the image's size and channel count, and draws randomness only from
/// the seed it is given: the same image, severity and seed give byte-identical output.
///
/// ```swift
/// let fog = try Transform.named("fog")
/// let foggy = try fog.apply(to: image, severity: 3, seed: 7)
/// ```
public struct Transform: Sendable, Hashable, CustomStringConvertible {
    public enum Group: String, Sendable, CaseIterable {
        case camera, noise, blur, weather, digital
    }

    enum Implementation: Hashable {
        case lowLight(channelGains: [Double]?)
        case motionBlur
        case occlusion
        case objectOcclusion
        case downscale
        case rotation
        /// Index into the bridge's ImageNet-C registry.
        case corruption(Int32)
    }

    public let name: String
    public let group: Group
    /// One line for listings and reports.
    public let summary: String
    /// The smallest width and height the transform accepts. ImageNet-C corruptions need 32
    /// pixels, as the reference does (its kernels and noise fields assume it); Vigil's camera
    /// scenarios work on any size, so small golden sets such as the bundled 20×20 digits can use
    /// them.
    public let minimumSide: Int
    /// Bumped when the transform's output changes, so stored outcomes computed by an older
    /// implementation are never reused for a newer one.
    public let version: Int
    let implementation: Implementation
    /// Parameters a suite set (`params:`), one value per severity; empty for the defaults.
    public private(set) var overrides: [String: [Double]] = [:]

    public var description: String { name }

    /// True for the 15 corruptions of the ImageNet-C benchmark (mCE averages over these); the
    /// 4 extra ones of `imagecorruptions` and Vigil's camera scenarios are not among them.
    public var isImageNetCBenchmark: Bool { AlexNetErrors.table[name] != nil }

    /// False for transforms that move image content (rotation): boxes of a detection golden
    /// set would no longer fit, so detection suites refuse them.
    public var keepsGeometry: Bool {
        if case .rotation = implementation { return false }
        return true
    }

    public var isImageNetC: Bool {
        if case .corruption = implementation { return true }
        return false
    }

    /// Every transform: Vigil's camera scenarios, then the 19 ImageNet-C corruptions in the
    /// reference's order (15 benchmark corruptions, then speckle_noise, gaussian_blur, spatter,
    /// saturate).
    public static let all: [Transform] = camera + (0..<cvb_corruption_count()).map { index in
        Transform(name: String(cString: cvb_corruption_name(index)),
                  group: Group(rawValue: String(cString: cvb_corruption_group(index)))!,
                  summary: String(cString: cvb_corruption_summary(index)),
                  minimumSide: 32, version: corruptionVersions[String(cString: cvb_corruption_name(index))] ?? 1,
                  implementation: .corruption(index))
    }

    /// Corruptions whose output changed since the first version: 2 for the four that draw
    /// normal variates, since those come from a ziggurat instead of Box-Muller; for
    /// defocus_blur, whose disk is now summed exactly (integer disk sums, then the small
    /// Gaussian); for frost, whose glow is blurred at a quarter of the resolution and whose
    /// layer is blended in float without rounding it to bytes first.
    static let corruptionVersions: [String: Int] = [
        "gaussian_noise": 2, "speckle_noise": 2, "snow": 2, "spatter": 2, "defocus_blur": 2, "frost": 2,
    ]

    static let camera: [Transform] = [
        Transform(name: "low-light", group: .camera,
                  summary: "camera low light: less exposure, photon shot noise, read noise, sRGB gamma, coarser quantisation",
                  minimumSide: 1, version: 2, implementation: .lowLight(channelGains: nil)),
        Transform(name: "low-light-warm", group: .camera,
                  summary: "low light under warm street lighting with a daylight white balance: as low-light, with less blue and green light (a colour cast; grey images get its luminance)",
                  minimumSide: 1, version: 2, implementation: .lowLight(channelGains: LowLight.warmGains)),
        Transform(name: "motion-blur", group: .camera,
                  summary: "linear motion blur: a line kernel whose length grows with severity, at a seeded random angle",
                  minimumSide: 1, version: 2, implementation: .motionBlur),
        Transform(name: "occlusion", group: .camera,
                  summary: "solid rectangles of seeded random colour covering a growing share of the image",
                  minimumSide: 1, version: 1, implementation: .occlusion),
        Transform(name: "object-occlusion", group: .camera,
                  summary: "each annotated object partly hidden: a rectangle of seeded random colour over a growing share of its box (detection golden sets)",
                  minimumSide: 1, version: 1, implementation: .objectOcclusion),
        Transform(name: "downscale", group: .camera,
                  summary: "resolution loss: area downscale, then bilinear upscale back to the original size",
                  minimumSide: 1, version: 1, implementation: .downscale),
        Transform(name: "rotation", group: .camera,
                  summary: "camera roll: rotation about the centre, direction seeded, edges replicated (moves content: classification only)",
                  minimumSide: 1, version: 1, implementation: .rotation),
    ]

    public static var names: [String] { all.map(\.name) }

    /// The transform called `name`; the error suggests the closest name.
    public static func named(_ name: String) throws -> Transform {
        if let transform = all.first(where: { $0.name == name }) { return transform }
        throw InputError("unknown scenario '\(name)'" + Suggestion.hint(for: name, in: ["clean"] + names)
                         + " (`vigil scenarios` lists them)")
    }

    /// The physical parameters at `severity`, as one line for listings and reports; parameters
    /// a suite set are marked.
    public func parameters(severity: Int) -> String {
        precondition((1...5).contains(severity), "severity is 1...5")
        let value = { (name: String) in self.value(name, severity: severity) }
        var text: String
        switch implementation {
        case .lowLight(let gains):
            text = "exposure \(value("exposure")) · full well \(Int(value("full_well"))) e- · read noise \(value("read_noise")) e- · \(Int(value("bits"))) bits"
            if let gains { text += " · light B/G/R × \(gains.map { String($0) }.joined(separator: "/"))" }
        case .motionBlur:
            text = "length \(Self.percent(value("length_share"))) of the shorter side, at least \(value("min_length_px").formatted()) px · angle uniform in [0°, 180°)"
        case .occlusion:
            text = "≥ \(Self.percent(value("area_share"))) of the image covered · up to \(Int(value("max_patches"))) patches"
        case .objectOcclusion:
            text = "\(Self.percent(value("box_share"))) of every object's box covered"
        case .downscale:
            text = "to \(Self.percent(value("factor"))) of each side and back"
        case .rotation:
            text = "± \(value("degrees").formatted())° (direction seeded)"
        case .corruption(let index):
            var buffer = [CChar](repeating: 0, count: 256)
            _ = cvb_corruption_parameters(index, Int32(severity), &buffer, buffer.count)
            text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        if !overrides.isEmpty { text += " · set by the suite: " + overrides.keys.sorted().joined(separator: ", ") }
        return text
    }

    /// What a suite may set under `params:`: the camera scenarios' parameters, each with its
    /// default per severity and its valid range. ImageNet-C corruptions have none: their
    /// parameters are the reference's, which is what makes them comparable.
    public var parameterCatalogue: [TransformParameter] {
        switch implementation {
        case .lowLight: LowLight.catalogue
        case .motionBlur: MotionBlur.catalogue
        case .occlusion: Occlusion.catalogue
        case .objectOcclusion: ObjectOcclusion.catalogue
        case .downscale: Downscale.catalogue
        case .rotation: Rotation.catalogue
        case .corruption: []
        }
    }

    /// Parameter `name` at `severity`: the suite's value, else the default.
    func value(_ name: String, severity: Int) -> Double {
        if let set = overrides[name] { return set[severity - 1] }
        guard let parameter = parameterCatalogue.first(where: { $0.name == name }) else {
            preconditionFailure("\(self.name) has no parameter \(name)")
        }
        return parameter.defaults[severity - 1]
    }

    /// This transform with some parameters set: each a number (every severity) or a list of
    /// five (severities 1...5), checked against the parameter's range; the error names the
    /// parameter and, for misspelt names, suggests the closest.
    public func overriding(_ values: [String: [Double]]) throws -> Transform {
        let catalogue = parameterCatalogue
        guard !catalogue.isEmpty else {
            throw InputError("scenario '\(name)' takes no parameters: ImageNet-C corruptions keep the reference's, which is what makes their results comparable (camera scenarios such as motion-blur and low-light take parameters)")
        }
        var copy = self
        for (key, given) in values {
            guard let parameter = catalogue.first(where: { $0.name == key }) else {
                throw InputError("scenario '\(name)' has no parameter '\(key)'" + Suggestion.hint(for: key, in: catalogue.map(\.name))
                                 + " (its parameters: \(catalogue.map(\.name).joined(separator: ", ")))")
            }
            guard given.count == 1 || given.count == 5 else {
                throw InputError("\(name) \(key): give one number (every severity) or five (severities 1...5), not \(given.count)")
            }
            let perSeverity = given.count == 1 ? Array(repeating: given[0], count: 5) : given
            for v in perSeverity {
                guard parameter.range.contains(v), !parameter.isWholeNumber || v == v.rounded() else {
                    throw InputError("\(name) \(key): \(v.formatted()) is outside its range \(parameter.rangeText) (\(parameter.meaning))")
                }
            }
            copy.overrides[key] = perSeverity
        }
        return copy
    }

    /// The overrides as one canonical line (`motion-blur{length_share=0.002,…}`), "" for none:
    /// part of the key of reusable stored outcomes.
    var overrideKey: String {
        guard !overrides.isEmpty else { return "" }
        let parts = overrides.keys.sorted().map { key in
            key + "=" + overrides[key]!.map { "\($0)" }.joined(separator: ",")
        }
        return name + "{" + parts.joined(separator: ";") + "}"
    }

    private static func percent(_ share: Double) -> String {
        (share * 100).formatted(.number.precision(.fractionLength(0...1))) + "%"
    }

    /// Whether the transform needs the golden set's boxes (`object-occlusion`).
    public var needsObjects: Bool {
        if case .objectOcclusion = implementation { return true }
        return false
    }

    /// Applies the transform. Checks the severity and the image size first, naming the
    /// transform in the error. `objects` are the image's annotated boxes, which box-aware
    /// transforms use.
    public func apply(to image: Image, severity: Int, seed: UInt64, objects: [Box] = []) throws -> Image {
        guard (1...5).contains(severity) else {
            throw InputError("scenario '\(name)': severity \(severity) is outside 1...5")
        }
        guard image.width >= minimumSide, image.height >= minimumSide else {
            throw InputError("scenario '\(name)' needs images of at least \(minimumSide)×\(minimumSide) pixels (as ImageNet-C's reference does); this one is \(image.width)×\(image.height)")
        }
        let id = "\(name)@\(severity)"
        let pointer: OpaquePointer
        switch implementation {
        case .lowLight(let gains):
            let exposure = value("exposure", severity: severity), fullWell = value("full_well", severity: severity)
            let readNoise = value("read_noise", severity: severity), bits = Int32(value("bits", severity: severity))
            pointer = try Bridge.call(id) { error in
                if let gains {
                    return gains.withUnsafeBufferPointer { buffer in
                        cvb_low_light(image.pointer, exposure, buffer.baseAddress, fullWell, readNoise, bits, seed, error)
                    }
                }
                return cvb_low_light(image.pointer, exposure, nil, fullWell, readNoise, bits, seed, error)
            }
        case .motionBlur:
            let length = MotionBlur.length(share: value("length_share", severity: severity),
                                           minimum: value("min_length_px", severity: severity),
                                           width: image.width, height: image.height)
            let angle = Self.uniform(seed) * 180
            pointer = try Bridge.call(id) { error in cvb_motion_blur(image.pointer, length, angle, error) }
        case .occlusion:
            let share = value("area_share", severity: severity), patches = Int32(value("max_patches", severity: severity))
            pointer = try Bridge.call(id) { error in cvb_occlusion(image.pointer, share, patches, seed, error) }
        case .objectOcclusion:
            let flat = objects.flatMap { [$0.x, $0.y, $0.width, $0.height] }
            let share = value("box_share", severity: severity)
            pointer = try Bridge.call(id) { error in
                flat.withUnsafeBufferPointer { buffer in
                    cvb_object_occlusion(image.pointer, buffer.baseAddress, Int32(objects.count), share, seed, error)
                }
            }
        case .downscale:
            let factor = value("factor", severity: severity)
            pointer = try Bridge.call(id) { error in cvb_downscale(image.pointer, factor, error) }
        case .rotation:
            let angle = value("degrees", severity: severity) * (Self.uniform(seed) < 0.5 ? -1 : 1)
            pointer = try Bridge.call(id) { error in cvb_rotate(image.pointer, angle, error) }
        case .corruption(let index):
            pointer = try Bridge.call(id) { error in cvb_corrupt(image.pointer, index, Int32(severity), seed, error) }
        }
        return Image(taking: pointer)
    }

    /// The first uniform draw of the bridge's generator for `seed`.
    private static func uniform(_ seed: UInt64) -> Double {
        var value = 0.0
        cvb_random_uniform(seed, &value, 1)
        return value
    }

    public static func == (a: Transform, b: Transform) -> Bool { a.name == b.name && a.overrides == b.overrides }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(overrides)
    }
}

/// One parameter of a camera scenario that a suite may set (`params:`): its name, what it means,
/// its default at severities 1...5 and the values it accepts.
public struct TransformParameter: Sendable, Hashable {
    public let name: String
    public let meaning: String
    public let defaults: [Double]
    public let range: ClosedRange<Double>
    public let isWholeNumber: Bool

    init(_ name: String, _ meaning: String, _ defaults: [Double], _ range: ClosedRange<Double>, wholeNumber: Bool = false) {
        precondition(defaults.count == 5 && defaults.allSatisfy(range.contains))
        self.name = name
        self.meaning = meaning
        self.defaults = defaults
        self.range = range
        isWholeNumber = wholeNumber
    }

    public var rangeText: String { "\(range.lowerBound.formatted())…\(range.upperBound.formatted())" + (isWholeNumber ? ", whole numbers" : "") }
}

/// Severity tables of the camera scenarios.
///
/// Low light follows a simple camera model: light falls by `exposure`, the sensor counts
/// photo-electrons (Poisson, `full_well` electrons at full scale), adds Gaussian read noise, and
/// the result is re-encoded with the sRGB curve at `bits` bits.
enum LowLight {
    static let catalogue: [TransformParameter] = [
        .init("exposure", "share of the light that reaches the sensor", [0.5, 0.3, 0.18, 0.1, 0.06], 0.001...1),
        .init("full_well", "photo-electrons at full scale: fewer means more shot noise", [1000, 1000, 1000, 1000, 1000], 1...1_000_000),
        .init("read_noise", "sensor read noise in electrons (standard deviation)", [2, 3, 4, 5, 6], 0...1000),
        .init("bits", "quantisation of the re-encoded signal", [8, 8, 7, 7, 6], 1...8, wholeNumber: true),
    ]

    /// Light reaching the blue, green and red pixels under warm (sodium or tungsten) street
    /// light, relative to red, with the camera still balanced for daylight.
    static let warmGains: [Double] = [0.45, 0.75, 1.0]
}

/// Blur length as a share of the image's shorter side, so a severity means the same at any
/// size, with a floor in pixels so small images still blur. Severity 1 is a hand-held camera's
/// shake at a slow shutter (0.5% of the side: 5 px on a 1080p frame), 5 a fast pan (4%: 43 px).
/// Version 1 used 6–30% of the side, which took a real classifier of 600-px photographs to
/// chance at severity 1.
enum MotionBlur {
    static let catalogue: [TransformParameter] = [
        .init("length_share", "blur length as a share of the image's shorter side", [0.005, 0.01, 0.018, 0.028, 0.04], 0...1),
        .init("min_length_px", "the shortest blur in pixels, for small images", [1, 1.5, 2.5, 3.5, 5], 0...10_000),
    ]

    static func length(share: Double, minimum: Double, width: Int, height: Int) -> Double {
        max(minimum, share * Double(min(width, height)))
    }

    static func length(severity: Int, width: Int, height: Int) -> Double {
        length(share: catalogue[0].defaults[severity - 1], minimum: catalogue[1].defaults[severity - 1], width: width, height: height)
    }
}

enum Occlusion {
    static let catalogue: [TransformParameter] = [
        .init("area_share", "share of the image covered at least", [0.05, 0.10, 0.20, 0.30, 0.40], 0...1),
        .init("max_patches", "rectangles the cover is split into at most", [3, 3, 3, 3, 3], 1...64, wholeNumber: true),
    ]
}

/// Share of each annotated box an occluder covers.
enum ObjectOcclusion {
    static let catalogue: [TransformParameter] = [
        .init("box_share", "share of every annotated box covered", [0.10, 0.20, 0.30, 0.40, 0.50], 0...1),
    ]
}

/// Share of each side kept: 1/1.5, 1/2, 1/3, 1/4, 1/6 of the resolution.
enum Downscale {
    static let catalogue: [TransformParameter] = [
        .init("factor", "share of each side kept before scaling back", [1 / 1.5, 1 / 2, 1 / 3, 1 / 4, 1 / 6], 0.001...1),
    ]
}

enum Rotation {
    static let catalogue: [TransformParameter] = [
        .init("degrees", "rotation in degrees (direction seeded)", [3, 6, 10, 15, 25], 0...180),
    ]
}

/// The published AlexNet errors on ImageNet-C (mean top-1 error over the 5 severities, from
/// Hendrycks & Dietterich's repository), which ImageNet-C's CE and mCE are normalised by.
public enum AlexNetErrors {
    public static let table: [String: Double] = [
        "gaussian_noise": 0.886428, "shot_noise": 0.894468, "impulse_noise": 0.922640,
        "defocus_blur": 0.819880, "glass_blur": 0.826268, "motion_blur": 0.785948, "zoom_blur": 0.798360,
        "snow": 0.866816, "frost": 0.826572, "fog": 0.819324, "brightness": 0.564592,
        "contrast": 0.853204, "elastic_transform": 0.646056, "pixelate": 0.717840, "jpeg_compression": 0.606500,
    ]
    /// AlexNet's clean top-1 error on ImageNet's validation set, used by relative mCE.
    public static let clean = 0.4345
}
