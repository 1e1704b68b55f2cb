import CVBridge
import Foundation

/// A condition a model is tested under: an image transform at a severity (1 mildest … 5
/// harshest), or `clean` for the images as they are.
///
/// Scenarios are values. Applying one is deterministic: the same image, scenario, severity and
/// seed give byte-identical output on every run (randomness comes only from the seed, never
/// from global state).
///
/// ```swift
/// let night = Scenario(kind: .lowLight, severity: 4)
/// let dark = try night.apply(to: image, seed: Seeds.sample(run: 7, scenario: night, sampleID: "r00c00"))
/// ```
public struct Scenario: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case clean
        case lowLight = "low-light"
        case motionBlur = "motion-blur"
        case occlusion

        /// Bumped when the transform's output changes, so stored outcomes computed by an older
        /// implementation are never reused for a newer one.
        public var implementationVersion: Int { 1 }

        public var summary: String {
            switch self {
            case .clean: "the golden-set images unchanged"
            case .lowLight: "camera low light: less exposure, photon shot noise, read noise, sRGB gamma, coarser quantisation"
            case .motionBlur: "linear motion blur: a line kernel whose length grows with severity, at a seeded random angle"
            case .occlusion: "solid rectangles of seeded random colour covering a growing share of the image"
            }
        }
    }

    public let kind: Kind
    /// 1...5; `nil` for `clean`.
    public let severity: Int?

    public init(kind: Kind, severity: Int?) {
        precondition(kind == .clean ? severity == nil : (1...5).contains(severity ?? 0),
                     "clean takes no severity; other scenarios take 1...5")
        self.kind = kind
        self.severity = severity
    }

    public static let clean = Scenario(kind: .clean, severity: nil)

    /// `clean`, or `name@severity` such as `low-light@3`.
    public var id: String {
        severity.map { "\(kind.rawValue)@\($0)" } ?? kind.rawValue
    }

    public var description: String { id }

    /// Parses `clean` or `low-light@3`; errors suggest the closest scenario name.
    public init(id: String) throws {
        let parts = id.split(separator: "@", maxSplits: 1).map(String.init)
        let names = Kind.allCases.map(\.rawValue)
        guard let kind = Kind(rawValue: parts[0]) else {
            throw InputError("unknown scenario '\(parts[0])'" + Suggestion.hint(for: parts[0], in: names))
        }
        if kind == .clean {
            guard parts.count == 1 else { throw InputError("scenario 'clean' takes no severity") }
            self = .clean
            return
        }
        guard parts.count == 2, let severity = Int(parts[1]), (1...5).contains(severity) else {
            throw InputError("scenario '\(id)' needs a severity 1...5, written as \(kind.rawValue)@3")
        }
        self.init(kind: kind, severity: severity)
    }

    /// The physical parameters at this severity, for listings and reports.
    public var parameters: [(name: String, value: String)] {
        guard let severity else { return [] }
        switch kind {
        case .clean:
            return []
        case .lowLight:
            let p = LowLight.table[severity - 1]
            return [("exposure", "\(p.exposure)"), ("full well", "\(Int(p.fullWell)) e-"),
                    ("read noise", "\(p.readNoise) e-"), ("bits", "\(p.bits)")]
        case .motionBlur:
            return [("length", "\(MotionBlur.lengthShare[severity - 1] * 100)% of the shorter side"),
                    ("angle", "uniform in [0°, 180°) per image")]
        case .occlusion:
            return [("covered", "≥ \(Int(Occlusion.areaShare[severity - 1] * 100))% of the image"),
                    ("patches", "up to \(Occlusion.maxPatches) (more only if overlaps leave the share short)")]
        }
    }

    /// Applies the transform. `seed` should come from `Seeds.sample(...)` so every image gets
    /// its own, reproducible randomness.
    public func apply(to image: Image, seed: UInt64) throws -> Image {
        guard let severity else { return image }
        let pointer: OpaquePointer
        switch kind {
        case .clean:
            return image
        case .lowLight:
            let p = LowLight.table[severity - 1]
            pointer = try Bridge.call(id) { error in
                cvb_low_light(image.pointer, p.exposure, p.fullWell, p.readNoise, Int32(p.bits), seed, error)
            }
        case .motionBlur:
            let length = MotionBlur.lengthShare[severity - 1] * Double(min(image.width, image.height))
            var angle = 0.0
            cvb_random_uniform(seed, &angle, 1)
            pointer = try Bridge.call(id) { error in
                cvb_motion_blur(image.pointer, length, angle * 180, error)
            }
        case .occlusion:
            pointer = try Bridge.call(id) { error in
                cvb_occlusion(image.pointer, Occlusion.areaShare[severity - 1], Int32(Occlusion.maxPatches), seed, error)
            }
        }
        return Image(taking: pointer)
    }

    /// Encoded as its id (`"low-light@3"`).
    public init(from decoder: any Decoder) throws {
        try self.init(id: decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(id)
    }

    public static func == (a: Scenario, b: Scenario) -> Bool { a.id == b.id }
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }
}

/// Severity tables. Low light follows a simple camera model: light falls by `exposure`, the
/// sensor counts photo-electrons (Poisson, `fullWell` electrons at full scale), adds Gaussian
/// read noise, and the result is re-encoded with the sRGB curve at `bits` bits.
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

/// Per-image seeds derived from the run's seed, so each image gets different but reproducible
/// randomness, independent of the order images are processed in.
public enum Seeds {
    /// FNV-1a (64-bit) over "\(run)|\(scenario.id)|\(sampleID)", finished with SplitMix64's mixer.
    public static func sample(run: UInt64, scenario: Scenario, sampleID: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "\(run)|\(scenario.id)|\(sampleID)".utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        var z = hash &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
