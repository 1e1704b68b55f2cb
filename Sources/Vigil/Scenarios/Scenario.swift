import CVBridge
import Foundation

/// A condition a model is tested under: a chain of image transforms, each at a severity
/// (1 mildest … 5 harshest), optionally on a slice of the golden set selected by tags; or
/// `clean`, the images as they are.
///
/// Scenarios are values with a textual id that says everything about them:
/// - `clean`
/// - `low-light@3`: one transform at one severity;
/// - `low-light@2+motion-blur@3`: a chain, applied left to right (one scenario, one id);
/// - `lighting=night`: the samples tagged `lighting: night`, unchanged (a slice of real captures);
/// - `lighting=night,device=cam-b:motion-blur@2`: a slice, then a transform.
///
/// Applying one is deterministic: the same image, scenario and seed give byte-identical output
/// (randomness comes only from the seed, never from global state).
///
/// ```swift
/// let night = try Scenario(id: "low-light@4+motion-blur@2")
/// let dark = try night.apply(to: image, seed: Seeds.sample(run: 7, scenario: night, sampleID: "r00c00"))
/// ```
public struct Scenario: Sendable, Hashable, Codable, CustomStringConvertible {
    /// One transform at one severity.
    public struct Step: Sendable, Hashable {
        public let transform: Transform
        public let severity: Int

        public init(_ transform: Transform, severity: Int) {
            precondition((1...5).contains(severity), "severity is 1...5")
            self.transform = transform
            self.severity = severity
        }

        public var id: String { "\(transform.name)@\(severity)" }
    }

    /// The transforms, in order; empty for `clean` and for a slice taken as it is.
    public let steps: [Step]
    /// Tag values a sample must all have to be in this scenario; empty for every sample.
    public let slice: [String: String]

    public init(steps: [Step], slice: [String: String] = [:]) {
        self.steps = steps
        self.slice = slice
    }

    /// One transform at one severity: `Scenario(try .named("fog"), severity: 3)`.
    public init(_ transform: Transform, severity: Int) {
        self.init(steps: [Step(transform, severity: severity)])
    }

    public static let clean = Scenario(steps: [])

    public var isClean: Bool { steps.isEmpty && slice.isEmpty }

    public var id: String {
        let chain = steps.map(\.id).joined(separator: "+")
        guard !slice.isEmpty else { return steps.isEmpty ? "clean" : chain }
        return Self.sliceID(slice) + (steps.isEmpty ? "" : ":" + chain)
    }

    /// The id without severities (`low-light`, `low-light+motion-blur`, `lighting=night:fog`):
    /// what a condition's `scenario:` selects across severities, and what a severity curve
    /// groups by.
    public var family: String {
        let chain = steps.map(\.transform.name).joined(separator: "+")
        guard !slice.isEmpty else { return steps.isEmpty ? "clean" : chain }
        return Self.sliceID(slice) + (steps.isEmpty ? "" : ":" + chain)
    }

    /// The severity shared by every step; nil for clean, slices without transforms, and chains
    /// that mix severities.
    public var severity: Int? {
        guard let first = steps.first?.severity, steps.allSatisfy({ $0.severity == first }) else { return nil }
        return first
    }

    public var description: String { id }

    /// Bumped when any step's output changes (part of the key of reusable stored outcomes).
    public var implementationVersion: Int {
        steps.isEmpty ? 1 : steps.reduce(0) { $0 * 100 + $1.transform.version }
    }

    /// Parameters a suite set for the steps (`params:`), as one canonical line, "" for the
    /// defaults; with `id` and `implementationVersion`, what identifies the computation.
    public var parameterKey: String {
        steps.map(\.transform.overrideKey).filter { !$0.isEmpty }.joined(separator: "+")
    }

    /// The same scenario with the suite's parameters for the transforms they name.
    public func overriding(_ parameters: [String: [String: [Double]]]) throws -> Scenario {
        Scenario(steps: try steps.map { step in
            guard let values = parameters[step.transform.name] else { return step }
            return Step(try step.transform.overriding(values), severity: step.severity)
        }, slice: slice)
    }

    /// Whether every step leaves content where it was (see `Transform.keepsGeometry`).
    public var keepsGeometry: Bool { steps.allSatisfy(\.transform.keepsGeometry) }

    /// The smallest image side every step accepts.
    public var minimumSide: Int { steps.map(\.transform.minimumSide).max() ?? 1 }

    /// One line per step with its parameters at its severity.
    public var parameters: [String] { steps.map { "\($0.id): \($0.transform.parameters(severity: $0.severity))" } }

    /// Whether a sample with `tags` belongs to this scenario.
    public func includes(tags: [String: String]) -> Bool {
        slice.allSatisfy { tags[$0.key] == $0.value }
    }

    /// Parses an id (see the type's documentation); errors suggest the closest scenario name.
    public init(id: String) throws {
        var rest = Substring(id.trimmingCharacters(in: .whitespaces))
        var slice: [String: String] = [:]
        if let colon = rest.firstIndex(of: ":") {
            slice = try Self.parseSlice(rest[..<colon], in: id)
            rest = rest[rest.index(after: colon)...]
        } else if rest.contains("=") {
            self.init(steps: [], slice: try Self.parseSlice(rest, in: id))
            return
        }
        if rest == "clean" {
            guard slice.isEmpty else { throw InputError("scenario '\(id)': a slice is written without 'clean' (just the tags)") }
            self = .clean
            return
        }
        let steps = try rest.split(separator: "+", omittingEmptySubsequences: false).map { part -> Step in
            let pieces = part.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let name = pieces[0].trimmingCharacters(in: .whitespaces)
            if name == "clean" { throw InputError("scenario '\(id)': 'clean' takes no severity and cannot be chained") }
            let transform = try Transform.named(name)
            guard pieces.count == 2 else {
                throw InputError("scenario '\(name)' needs a severity 1...5, written as \(name)@3")
            }
            guard let severity = Int(pieces[1].trimmingCharacters(in: .whitespaces)), (1...5).contains(severity) else {
                throw InputError("scenario '\(name)': severity '\(pieces[1])' is not one of 1...5")
            }
            return Step(transform, severity: severity)
        }
        self.init(steps: steps, slice: slice)
    }

    /// `key=value,key=value`, keys sorted, so equal slices have equal ids.
    static func sliceID(_ slice: [String: String]) -> String {
        slice.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    /// Characters that structure a scenario id cannot appear in slice keys or values.
    static let reservedInSlices = CharacterSet(charactersIn: ",=:+@")

    static func parseSlice(_ text: Substring, in id: String) throws -> [String: String] {
        var slice: [String: String] = [:]
        for pair in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw InputError("scenario '\(id)': a slice is written as tag=value (several joined by ','), e.g. lighting=night")
            }
            guard slice.updateValue(parts[1], forKey: parts[0]) == nil else {
                throw InputError("scenario '\(id)': tag '\(parts[0])' appears twice")
            }
        }
        return slice
    }

    /// Checks that slice tags can be written in an id (no `, = : + @`).
    public static func validateSlice(_ slice: [String: String]) throws {
        for (key, value) in slice {
            for text in [key, value] where text.isEmpty || text.rangeOfCharacter(from: reservedInSlices) != nil {
                throw InputError("slice tag '\(key): \(value)': tags used in slices must be non-empty and free of , = : + @")
            }
        }
    }

    /// Applies the steps in order. `seed` should come from `Seeds.sample(...)` so every image
    /// gets its own, reproducible randomness; each step after the first draws from its own seed
    /// derived from it.
    /// `objects` are the image's annotated boxes, for box-aware steps (`object-occlusion`).
    public func apply(to image: Image, seed: UInt64, objects: [Box] = []) throws -> Image {
        var current = image
        for (index, step) in steps.enumerated() {
            current = try step.transform.apply(to: current, severity: step.severity,
                                               seed: index == 0 ? seed : Seeds.mix(seed, UInt64(index)), objects: objects)
        }
        return current
    }

    /// Whether a step needs the golden set's boxes.
    public var needsObjects: Bool { steps.contains { $0.transform.needsObjects } }

    /// Encoded as its id (`"low-light@3"`); parameters a suite set are not part of it (the suite
    /// file and the stored outcomes keep them).
    public init(from decoder: any Decoder) throws {
        try self.init(id: decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(id)
    }

    public static func == (a: Scenario, b: Scenario) -> Bool { a.id == b.id && a.parameterKey == b.parameterKey }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        hasher.combine(parameterKey)
    }
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
        return splitMix(hash)
    }

    /// A seed for step `index` of a chain, independent of the first step's.
    static func mix(_ seed: UInt64, _ index: UInt64) -> UInt64 {
        splitMix(seed ^ (index &* 0x9E37_79B9_7F4A_7C15))
    }

    private static func splitMix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
