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
                  minimumSide: 32, version: 1, implementation: .corruption(index))
    }

    static let camera: [Transform] = [
        Transform(name: "low-light", group: .camera,
                  summary: "camera low light: less exposure, photon shot noise, read noise, sRGB gamma, coarser quantisation",
                  minimumSide: 1, version: 1, implementation: .lowLight(channelGains: nil)),
        Transform(name: "low-light-warm", group: .camera,
                  summary: "low light under warm street lighting with a daylight white balance: as low-light, with less blue and green light (a colour cast; grey images get its luminance)",
                  minimumSide: 1, version: 1, implementation: .lowLight(channelGains: LowLight.warmGains)),
        Transform(name: "motion-blur", group: .camera,
                  summary: "linear motion blur: a line kernel whose length grows with severity, at a seeded random angle",
                  minimumSide: 1, version: 1, implementation: .motionBlur),
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

    /// The physical parameters at `severity`, as one line for listings and reports.
    public func parameters(severity: Int) -> String {
        precondition((1...5).contains(severity), "severity is 1...5")
        switch implementation {
        case .lowLight(let gains):
            let p = LowLight.table[severity - 1]
            var text = "exposure \(p.exposure) · full well \(Int(p.fullWell)) e- · read noise \(p.readNoise) e- · \(p.bits) bits"
            if let gains { text += " · light B/G/R × \(gains.map { String($0) }.joined(separator: "/"))" }
            return text
        case .motionBlur:
            return "length \(Self.percent(MotionBlur.lengthShare[severity - 1])) of the shorter side · angle uniform in [0°, 180°)"
        case .occlusion:
            return "≥ \(Self.percent(Occlusion.areaShare[severity - 1])) of the image covered · up to \(Occlusion.maxPatches) patches"
        case .objectOcclusion:
            return "\(Self.percent(ObjectOcclusion.boxShare[severity - 1])) of every object's box covered"
        case .downscale:
            return "to \(Self.percent(Downscale.factor[severity - 1])) of each side and back"
        case .rotation:
            return "± \(Rotation.degrees[severity - 1].formatted())° (direction seeded)"
        case .corruption(let index):
            var buffer = [CChar](repeating: 0, count: 256)
            _ = cvb_corruption_parameters(index, Int32(severity), &buffer, buffer.count)
            return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
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
            let p = LowLight.table[severity - 1]
            pointer = try Bridge.call(id) { error in
                if let gains {
                    return gains.withUnsafeBufferPointer { buffer in
                        cvb_low_light(image.pointer, p.exposure, buffer.baseAddress, p.fullWell, p.readNoise, Int32(p.bits), seed, error)
                    }
                }
                return cvb_low_light(image.pointer, p.exposure, nil, p.fullWell, p.readNoise, Int32(p.bits), seed, error)
            }
        case .motionBlur:
            let length = MotionBlur.lengthShare[severity - 1] * Double(min(image.width, image.height))
            let angle = Self.uniform(seed) * 180
            pointer = try Bridge.call(id) { error in cvb_motion_blur(image.pointer, length, angle, error) }
        case .occlusion:
            pointer = try Bridge.call(id) { error in
                cvb_occlusion(image.pointer, Occlusion.areaShare[severity - 1], Int32(Occlusion.maxPatches), seed, error)
            }
        case .objectOcclusion:
            let flat = objects.flatMap { [$0.x, $0.y, $0.width, $0.height] }
            pointer = try Bridge.call(id) { error in
                flat.withUnsafeBufferPointer { buffer in
                    cvb_object_occlusion(image.pointer, buffer.baseAddress, Int32(objects.count),
                                         ObjectOcclusion.boxShare[severity - 1], seed, error)
                }
            }
        case .downscale:
            pointer = try Bridge.call(id) { error in cvb_downscale(image.pointer, Downscale.factor[severity - 1], error) }
        case .rotation:
            let angle = Rotation.degrees[severity - 1] * (Self.uniform(seed) < 0.5 ? -1 : 1)
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

    public static func == (a: Transform, b: Transform) -> Bool { a.name == b.name }
    public func hash(into hasher: inout Hasher) { hasher.combine(name) }
}

/// Severity tables of the camera scenarios.
///
/// Low light follows a simple camera model: light falls by `exposure`, the sensor counts
/// photo-electrons (Poisson, `fullWell` electrons at full scale), adds Gaussian read noise, and
/// the result is re-encoded with the sRGB curve at `bits` bits.
enum LowLight {
    struct Parameters {
        let exposure: Double
        let fullWell: Double
        let readNoise: Double
        let bits: Int
    }

    static let table: [Parameters] = [
        .init(exposure: 0.5, fullWell: 1000, readNoise: 2, bits: 8),
        .init(exposure: 0.3, fullWell: 1000, readNoise: 3, bits: 8),
        .init(exposure: 0.18, fullWell: 1000, readNoise: 4, bits: 7),
        .init(exposure: 0.1, fullWell: 1000, readNoise: 5, bits: 7),
        .init(exposure: 0.06, fullWell: 1000, readNoise: 6, bits: 6),
    ]

    /// Light reaching the blue, green and red pixels under warm (sodium or tungsten) street
    /// light, relative to red, with the camera still balanced for daylight.
    static let warmGains: [Double] = [0.45, 0.75, 1.0]
}

/// Blur length as a share of the image's shorter side, so a severity means the same on a
/// 20-pixel digit and a 640-pixel photo.
enum MotionBlur {
    static let lengthShare: [Double] = [0.06, 0.10, 0.15, 0.22, 0.30]
}

enum Occlusion {
    static let areaShare: [Double] = [0.05, 0.10, 0.20, 0.30, 0.40]
    static let maxPatches = 3
}

/// Share of each annotated box an occluder covers.
enum ObjectOcclusion {
    static let boxShare: [Double] = [0.10, 0.20, 0.30, 0.40, 0.50]
}

/// Share of each side kept: 1/1.5, 1/2, 1/3, 1/4, 1/6 of the resolution.
enum Downscale {
    static let factor: [Double] = [1 / 1.5, 1 / 2, 1 / 3, 1 / 4, 1 / 6]
}

enum Rotation {
    static let degrees: [Double] = [3, 6, 10, 15, 25]
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
