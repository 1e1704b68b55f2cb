import Foundation
import CVBridge
import Testing
import VigilTestSupport
@testable import Vigil

@Suite("Scenarios: determinism and what each transform does")
struct ScenarioTests {
    /// Every transform at every severity.
    static let transforms: [Scenario] = Transform.all.flatMap { transform in
        (1...5).map { Scenario(transform, severity: $0) }
    }

    static func named(_ name: String, _ severity: Int) throws -> Scenario {
        Scenario(try Transform.named(name), severity: severity)
    }

    /// A test card (64×48 by default): gradients plus a bright square, grey or colour.
    static func card(channels: Int, width: Int = 64, height: Int = 48) throws -> Image {
        var pixels: [UInt8] = []
        for y in 0..<height {
            for x in 0..<width {
                let inSquare = (20..<36).contains(x) && (14..<30).contains(y)
                for c in 0..<channels {
                    pixels.append(inSquare ? 250 : UInt8((x * 3 + y * 2 + c * 40) % 200))
                }
            }
        }
        return try Image(width: width, height: height, channels: channels, pixels: pixels)
    }

    static func constant(_ value: UInt8, width: Int = 40, height: Int = 30, channels: Int = 1) throws -> Image {
        try Image(width: width, height: height, channels: channels, pixels: Array(repeating: value, count: width * height * channels))
    }

    /// Boxes on the test card, for box-aware transforms (the others ignore them); one reaches
    /// past the card's edge.
    static let boxes = [Box(x: 3.5, y: 4, width: 20, height: 16), Box(x: 22, y: 20, width: 18.2, height: 40)]

    /// Same image, scenario, severity and seed: byte-identical output, same size and channels,
    /// and a visible change. Odd sizes catch off-by-one errors in kernels and crops.
    @Test(arguments: transforms, [1, 3])
    func sameSeedGivesIdenticalBytes(_ scenario: Scenario, channels: Int) throws {
        for (width, height) in [(64, 48), (33, 47)] {
            let image = try Self.card(channels: channels, width: width, height: height)
            let a = try scenario.apply(to: image, seed: 42, objects: Self.boxes).pixels()
            let b = try scenario.apply(to: image, seed: 42, objects: Self.boxes).pixels()
            #expect(a == b)
            let out = try scenario.apply(to: image, seed: 42, objects: Self.boxes)
            #expect(out.width == width && out.height == height && out.channels == channels)
            // Saturation has nothing to change in a grey image (as in the reference).
            if !(scenario.family == "saturate" && channels == 1) {
                #expect(a != image.pixels(), "\(scenario.id) changed nothing on \(width)×\(height)×\(channels)")
            }
        }
    }

    /// Random transforms differ between seeds (the deterministic ones cannot).
    static let deterministic: Set<String> = ["downscale", "defocus_blur", "zoom_blur", "gaussian_blur", "brightness",
                                             "contrast", "pixelate", "jpeg_compression", "saturate"]

    @Test(arguments: transforms.filter { !deterministic.contains($0.family) && !($0.family == "motion-blur" && $0.severity == 1) })
    func differentSeedsGiveDifferentImages(_ scenario: Scenario) throws {
        let image = try Self.card(channels: 3)
        #expect(try scenario.apply(to: image, seed: 1, objects: Self.boxes).pixels()
                != scenario.apply(to: image, seed: 2, objects: Self.boxes).pixels())
    }

    /// The ImageNet-C reference refuses images below 32 pixels; so does Vigil, naming the
    /// scenario. Vigil's camera scenarios take any size (the bundled digits are 20×20).
    @Test func imageNetCCorruptionsNeed32Pixels() throws {
        let small = try Self.card(channels: 1, width: 31, height: 40)
        #expect(inputError { _ = try Self.named("fog", 2).apply(to: small, seed: 1) }
                == "scenario 'fog' needs images of at least 32×32 pixels (as ImageNet-C's reference does); this one is 31×40")
        let digit = try Self.card(channels: 1, width: 20, height: 20)
        for transform in Transform.all where !transform.isImageNetC {
            #expect(try Scenario(transform, severity: 3).apply(to: digit, seed: 1).width == 20)
        }
    }

    @Test func libraryHasTheNineteenImageNetCCorruptionsInTheReferenceOrder() {
        let corruptions = Transform.all.filter(\.isImageNetC).map(\.name)
        #expect(corruptions == ["gaussian_noise", "shot_noise", "impulse_noise", "defocus_blur", "glass_blur",
                                "motion_blur", "zoom_blur", "snow", "frost", "fog", "brightness", "contrast",
                                "elastic_transform", "pixelate", "jpeg_compression", "speckle_noise",
                                "gaussian_blur", "spatter", "saturate"])
        #expect(Transform.all.filter(\.isImageNetCBenchmark).count == 15)
        for transform in Transform.all {
            for severity in 1...5 { #expect(!transform.parameters(severity: severity).isEmpty) }
        }
    }

    /// A chain applies its steps in order, each with its own seed, and is as deterministic as
    /// one transform.
    @Test func chainsApplyStepsInOrder() throws {
        let chain = try Scenario(id: "low-light@2+motion-blur@3")
        #expect(chain.steps.map(\.id) == ["low-light@2", "motion-blur@3"])
        #expect(chain.family == "low-light+motion-blur" && chain.severity == nil)
        let image = try Self.card(channels: 3)
        let manual = try Self.named("motion-blur", 3).apply(
            to: Self.named("low-light", 2).apply(to: image, seed: 11), seed: Seeds.mix(11, 1))
        #expect(try chain.apply(to: image, seed: 11).pixels() == manual.pixels())
        #expect(try Scenario(id: "fog@2+fog@2").severity == 2)
    }

    @Test func slicesParseSelectAndKeepTheirTagsInTheID() throws {
        let slice = try Scenario(id: "lighting=night,device=cam-b:fog@2")
        #expect(slice.slice == ["lighting": "night", "device": "cam-b"])
        #expect(slice.id == "device=cam-b,lighting=night:fog@2")
        #expect(slice.family == "device=cam-b,lighting=night:fog")
        #expect(slice.includes(tags: ["lighting": "night", "device": "cam-b", "site": "x"]))
        #expect(!slice.includes(tags: ["lighting": "night"]))
        let plain = try Scenario(id: "ink=heavy")
        #expect(plain.steps.isEmpty && !plain.isClean && plain.id == "ink=heavy")
        #expect(try plain.apply(to: Self.card(channels: 1), seed: 3).pixels() == Self.card(channels: 1).pixels())
        #expect(inputError { _ = try Scenario(id: "ink:fog@2") }.contains("tag=value"))
        #expect(inputError { try Scenario.validateSlice(["ink": "a+b"]) }.contains("free of , = : + @"))
    }

    @Test func cleanReturnsTheImageUnchanged() throws {
        let image = try Self.card(channels: 1)
        #expect(try Scenario.clean.apply(to: image, seed: 9).pixels() == image.pixels())
    }

    @Test func lowLightDarkensMoreWithEachSeverityAndAddsNoise() throws {
        let grey = try Self.constant(200, width: 100, height: 100)
        var previous = 200.0
        for severity in 1...5 {
            let out = try Self.named("low-light", severity).apply(to: grey, seed: 3).pixels().map(Double.init)
            let mean = out.reduce(0, +) / Double(out.count)
            let variance = out.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(out.count)
            #expect(mean < previous, "severity \(severity) is not darker than \(severity - 1)")
            #expect(variance > 0.5, "severity \(severity) has no noise")
            previous = mean
        }
        // Camera model check at severity 5: 200 → linear 0.578, × 0.06 exposure = 0.0347 →
        // sRGB 0.205 → 6-bit 13/63 → 52.6 grey levels; noise and clipping move the mean a little.
        #expect(abs(previous - 52.6) < 3)
    }

    /// Occluders of one colour drawn with the same seed land in the same places on a black and on
    /// a white image: pixels equal in both outputs are exactly the covered ones.
    @Test(arguments: 1...5)
    func occlusionCoversAtLeastItsShare(severity: Int) throws {
        let scenario = try Self.named("occlusion", severity)
        let black = try scenario.apply(to: Self.constant(0), seed: 77).pixels()
        let white = try scenario.apply(to: Self.constant(255), seed: 77).pixels()
        let covered = zip(black, white).filter { $0 == $1 }.count
        let share = Double(covered) / Double(black.count)
        let target = Occlusion.catalogue[0].defaults[severity - 1]
        #expect(share >= target, "covered \(share), needs \(target)")
        #expect(share <= target + 0.08, "covered \(share), far more than \(target)")
    }

    @Test func motionBlurSpreadsAPointIntoALineAndKeepsBrightness() throws {
        let side = 401
        var pixels = [UInt8](repeating: 0, count: side * side)
        pixels[200 * side + 200] = 255
        let point = try Image(width: side, height: side, channels: 1, pixels: pixels)
        let blurred = try Self.named("motion-blur", 5).apply(to: point, seed: 0).pixels()
        let lit = blurred.indices.filter { blurred[$0] > 0 }
        // Length at severity 5: 4% of 401 px ≈ 16 px; the line's extent must be about that long.
        #expect(MotionBlur.length(severity: 5, width: side, height: side) == 0.04 * 401)
        let xs = lit.map { $0 % side }, ys = lit.map { $0 / side }
        let extent = hypot(Double(xs.max()! - xs.min()!), Double(ys.max()! - ys.min()!))
        #expect(extent >= 14 && extent <= 18, "extent \(extent)")
        // Small images blur by the severity's minimum length.
        #expect(MotionBlur.length(severity: 1, width: 20, height: 20) == 1)
        let card = try Self.card(channels: 1)
        let before = card.pixels().reduce(0) { $0 + Int($1) }
        let after = try Self.named("motion-blur", 3).apply(to: card, seed: 5).pixels().reduce(0) { $0 + Int($1) }
        #expect(abs(Double(after - before)) / Double(before) < 0.02)
    }

    @Test func idsParseAndMistakesSuggest() throws {
        #expect(try Scenario(id: "low-light@3") == Self.named("low-light", 3))
        #expect(try Scenario(id: "clean") == .clean)
        #expect(inputError { _ = try Scenario(id: "low-lihgt@3") }
                == "unknown scenario 'low-lihgt' (did you mean 'low-light'?) (`vigil scenarios` lists them)")
        #expect(inputError { _ = try Scenario(id: "gausian_noise@3") }.contains("did you mean 'gaussian_noise'?"))
        #expect(inputError { _ = try Scenario(id: "occlusion@9") } == "scenario 'occlusion': severity '9' is not one of 1...5")
        #expect(inputError { _ = try Scenario(id: "occlusion@0") }.contains("is not one of 1...5"))
        #expect(inputError { _ = try Scenario(id: "motion-blur") }.contains("needs a severity"))
        #expect(inputError { _ = try Scenario(id: "clean@2") } == "scenario 'clean@2': 'clean' takes no severity and cannot be chained")
        #expect(inputError { _ = try Self.named("fog", 1).steps[0].transform.apply(to: Self.card(channels: 1), severity: 6, seed: 0) }
                == "scenario 'fog': severity 6 is outside 1...5")
    }

    /// Per-image seeds are part of Vigil's reproducibility promise: changing the derivation would
    /// silently change every stored scenario image, so its values are pinned.
    @Test func sampleSeedsArePinned() throws {
        let a = Seeds.sample(run: 20261125, scenario: try Self.named("low-light", 3), sampleID: "r00c00")
        #expect(try a == Seeds.sample(run: 20261125, scenario: Self.named("low-light", 3), sampleID: "r00c00"))
        #expect(try a != Seeds.sample(run: 20261125, scenario: Self.named("low-light", 4), sampleID: "r00c00"))
        #expect(try a != Seeds.sample(run: 20261126, scenario: Self.named("low-light", 3), sampleID: "r00c00"))
        // Values computed independently (Python) from the documented definition.
        #expect(Seeds.sample(run: 0, scenario: .clean, sampleID: "") == 0xF1D8_0934_A2F0_D19C)
        #expect(a == 0x2394_11E9_95CB_BE45)
    }

    @Test func bridgeRandomNumbersAreUniformAndSeeded() {
        var a = [Double](repeating: 0, count: 20_000), b = a
        cvb_random_uniform(8, &a, a.count)
        cvb_random_uniform(8, &b, b.count)
        #expect(a == b)
        #expect(a.allSatisfy { $0 >= 0 && $0 < 1 })
        let mean = a.reduce(0, +) / Double(a.count)
        #expect(abs(mean - 0.5) < 0.01)
    }

    /// A suite's parameters change the output as they say (a longer blur spreads a point
    /// further, a lower exposure darkens) and the defaults are what the tables say.
    @Test func overriddenParametersChangeTheOutput() throws {
        let side = 401
        var pixels = [UInt8](repeating: 0, count: side * side)
        pixels[200 * side + 200] = 255
        let point = try Image(width: side, height: side, channels: 1, pixels: pixels)
        func extent(_ scenario: Scenario) throws -> Double {
            let blurred = try scenario.apply(to: point, seed: 0).pixels()
            let lit = blurred.indices.filter { blurred[$0] > 0 }
            let xs = lit.map { $0 % side }, ys = lit.map { $0 / side }
            return hypot(Double(xs.max()! - xs.min()!), Double(ys.max()! - ys.min()!))
        }
        let standard = try Self.named("motion-blur", 2)
        let longer = try standard.overriding(["motion-blur": ["length_share": [0.05]]])
        let short = try extent(standard), long = try extent(longer)
        #expect(short < 6, "extent \(short)")
        #expect((18...22).contains(long), "extent \(long)")
        #expect(longer.parameterKey == "motion-blur{length_share=0.05,0.05,0.05,0.05,0.05}")
        let card = try Self.card(channels: 3)
        let dim = try Self.named("low-light", 1).overriding(["low-light": ["exposure": [0.05, 0.05, 0.05, 0.05, 0.05]]])
        let mean = { (image: Image) in image.pixels().reduce(0) { $0 + Double($1) } / Double(image.pixels().count) }
        let dimmed = try dim.apply(to: card, seed: 1), standardLight = try Self.named("low-light", 1).apply(to: card, seed: 1)
        #expect(mean(dimmed) < 0.5 * mean(standardLight))
        #expect(try Transform.named("downscale").parameterCatalogue.map(\.name) == ["factor"])
        #expect(try Transform.named("pixelate").parameterCatalogue.isEmpty)
    }

    /// The ziggurat's normal variates: seeded, and distributed as N(0, 1) — moments, the tail
    /// beyond the base layer's edge (drawn by the tail method), and a Kolmogorov–Smirnov
    /// distance within the 1% critical value for 400 000 draws.
    @Test func bridgeNormalVariatesAreStandardNormal() {
        let n = 400_000
        var a = [Double](repeating: 0, count: n), b = a
        cvb_random_normal(3, &a, n)
        cvb_random_normal(3, &b, n)
        #expect(a == b)
        let mean = a.reduce(0, +) / Double(n)
        let variance = a.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)
        let kurtosis = a.reduce(0) { $0 + pow(($1 - mean), 4) } / Double(n) / (variance * variance)
        #expect(abs(mean) < 0.006 && abs(variance - 1) < 0.01 && abs(kurtosis - 3) < 0.05, "mean \(mean), var \(variance), kurtosis \(kurtosis)")
        // P(|x| > 3.6541…) = 2.58e-4: about 103 of 400 000.
        let tail = a.filter { abs($0) > 3.6541528853610088 }.count
        #expect((70...140).contains(tail), "\(tail) values beyond the ziggurat's base layer")
        let sorted = a.sorted()
        var distance = 0.0
        for (i, x) in sorted.enumerated() where i % 97 == 0 {
            let cdf = 0.5 * erfc(-x / 2.0.squareRoot())
            distance = max(distance, abs(cdf - Double(i) / Double(n)), abs(cdf - Double(i + 1) / Double(n)))
        }
        #expect(distance < 1.63 / Double(n).squareRoot(), "KS distance \(distance)")
    }

    /// Low light's Poisson counts: for small, middling and large means, each count's frequency
    /// against the Poisson probability (a chi-square test over the counts with 5 or more
    /// expected draws, at the 0.1% level), and the mean and variance both λ.
    @Test(arguments: [0.3, 4.0, 37.5, 180.0, 500.0])
    func bridgePoissonCountsFollowThePoissonLaw(mean: Double) {
        let n = 200_000
        var draws = [Int32](repeating: 0, count: n)
        cvb_random_poisson(11, mean, &draws, n)
        let average = draws.reduce(0.0) { $0 + Double($1) } / Double(n)
        let variance = draws.reduce(0.0) { $0 + (Double($1) - average) * (Double($1) - average) } / Double(n - 1)
        let tolerance = 4 * (mean / Double(n)).squareRoot()
        #expect(abs(average - mean) < tolerance, "mean \(average) for λ \(mean)")
        #expect(abs(variance / mean - 1) < 0.02, "variance \(variance) for λ \(mean)")
        var observed: [Int: Int] = [:]
        for d in draws { observed[Int(d), default: 0] += 1 }
        var chiSquare = 0.0, cells = 0
        for k in 0...Int(mean + 12 * mean.squareRoot() + 12) {
            let expected = Double(n) * exp(-mean + Double(k) * log(mean) - lgamma(Double(k) + 1))
            guard expected >= 5 else { continue }
            chiSquare += pow(Double(observed[k] ?? 0) - expected, 2) / expected
            cells += 1
        }
        // The 99.9% quantile of chi-square with `cells - 1` degrees of freedom (Wilson–Hilferty).
        let dof = Double(cells - 1), z = 3.0902
        let critical = dof * pow(1 - 2 / (9 * dof) + z * (2 / (9 * dof)).squareRoot(), 3)
        #expect(chiSquare < critical, "chi-square \(chiSquare) over \(cells) cells (critical \(critical)) for λ \(mean)")
    }

    /// Outputs of the transforms computed by Vigil's own arithmetic (integers, fixed-order
    /// floats, its own generator; no OpenCV kernel and no libm in the pixel path), pinned by
    /// hash with the transform's implementation version: a machine that computes other bits
    /// fails here, and so does a change of output that forgets to bump the version (stored
    /// outcomes are reused by version). On a change that is meant: bump the version, then
    /// update the hash.
    static let pinned: [String: String] = [
        "low-light@3 v2": "f5ef615347301f17",
        "low-light-warm@5 v2": "eec61a164b458867",
        "motion-blur@3 v2": "2aeaccb15fa404a0",
        "motion-blur@5 v2": "df49f668063cd88d",
        "occlusion@4 v1": "1ac97a9a1d0a2438",
        "defocus_blur@3 v2": "1b2534756e31fd40",
        "defocus_blur@5 v2": "166ca2bde711f634",
        "pixelate@3 v1": "758e0186b5c67164",
        "gaussian_noise@3 v2": "fa8952c6b24e3ec1",
        "shot_noise@3 v1": "84b1d8c8bb1f11d4",
        "impulse_noise@3 v1": "65b704d390ccd3ad",
        "speckle_noise@3 v2": "c8209836feae0c8c",
    ]

    @Test func outputsOfVigilsOwnArithmeticArePinned() throws {
        let colour = try Self.card(channels: 3, width: 97, height: 61), grey = try Self.card(channels: 1, width: 97, height: 61)
        for (key, expected) in Self.pinned.sorted(by: { $0.key < $1.key }) {
            let id = String(key.split(separator: " ")[0])
            let scenario = try Scenario(id: id)
            var bytes = Data()
            for image in [colour, grey] {
                bytes.append(contentsOf: try scenario.apply(to: image, seed: 20261202).pixels())
            }
            let actual = "\(id) v\(scenario.steps[0].transform.version)"
            #expect(actual == key, "\(id) is at version \(scenario.steps[0].transform.version) now: update its pinned hash")
            #expect(String(SHA256.hex(of: bytes).prefix(16)) == expected, "\(key): \(SHA256.hex(of: bytes).prefix(16))")
        }
    }
}
