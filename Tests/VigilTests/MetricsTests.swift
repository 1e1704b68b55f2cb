import Foundation
import Testing
import VigilTestSupport
@testable import Vigil

@Suite("Classification metrics: worked examples and building blocks")
struct MetricsTests {
    /// Worked by hand: 3 classes, 6 samples.
    ///   labels     0 0 1 1 2 2
    ///   predicted  0 1 1 1 2 0   (confidences .9 .6 .8 .7 .95 .5)
    /// accuracy 4/6; class 0: TP1 FP1 FN1 TN3 → precision ½, recall ½, FPR ¼, FNR ½;
    /// class 1: TP2 FP1 FN0 → precision ⅔, recall 1, F1 0.8; class 2: TP1 FP0 FN1 → F1 ⅔.
    @Test func handWorkedExample() throws {
        let rows: [(Int, Int, Float)] = [(0, 0, 0.9), (0, 1, 0.6), (1, 1, 0.8), (1, 1, 0.7), (2, 2, 0.95), (2, 0, 0.5)]
        var accumulator = ClassificationAccumulator(classes: ["a", "b", "c"])
        for (i, (label, predicted, confidence)) in rows.enumerated() {
            var p: [Float] = [0, 0, 0]
            p[predicted] = confidence
            p[(predicted + 1) % 3] = 1 - confidence
            accumulator.add(Outcome(sampleID: "\(i)", label: label, probabilities: p, latencyMs: Double(i + 1)))
        }
        let m = accumulator.compute()
        #expect(m.accuracy == 4.0 / 6.0)
        #expect(m.perClass[0].precision == 0.5 && m.perClass[0].recall == 0.5)
        #expect(m.perClass[0].fpr == 0.25 && m.perClass[0].fnr == 0.5)
        #expect(m.perClass[1].precision == 2.0 / 3.0 && m.perClass[1].recall == 1 && m.perClass[1].f1 == 0.8)
        #expect(m.perClass[2].f1 == 2.0 / 3.0 && m.perClass[2].fpr == 0)
        #expect(abs(m.macro.f1! - (0.5 + 0.8 + 2.0 / 3.0) / 3) < 1e-15)
        #expect(m.top5Accuracy == nil)   // fewer than 5 classes
        #expect(m.confusion == [[1, 1, 0], [0, 2, 0], [1, 0, 1]])
        // Latencies 1…6 ms: median 3.5, p95 = 5 + 0.75 · 1.
        #expect(m.latencyP50Ms == 3.5)
        #expect(m.latencyP95Ms == 5.75)
        #expect(m.throughputIPS == 6 / 0.021)
        // Brier for the first sample: (0.9-1)² + (0.1)² = 0.02.
        var single = ClassificationAccumulator(classes: ["a", "b", "c"])
        single.add(Outcome(sampleID: "x", label: 0, probabilities: [0.9, 0.1, 0], latencyMs: 1))
        #expect(abs(single.compute().calibration.brier! - 0.02) < 1e-8)
    }

    @Test func confidenceOfExactlyOneGoesIntoTheLastBin() {
        var accumulator = ClassificationAccumulator(classes: ["a", "b"])
        accumulator.add(Outcome(sampleID: "1", label: 0, probabilities: [1, 0], latencyMs: 1))
        accumulator.add(Outcome(sampleID: "2", label: 1, probabilities: [1, 0], latencyMs: 1))
        let m = accumulator.compute()
        #expect(m.calibration.bins.count == 15)
        #expect(m.calibration.bins[14].count == 2)
        #expect(m.calibration.bins[14].accuracy == 0.5)
        #expect(m.calibration.ece == 0.5)
    }

    @Test func binEdgesFollowTorchLinspaceInFloat32() {
        let edges = ClassificationAccumulator.linspaceFloat32(16)
        #expect(edges.first == 0 && edges.last == 1)
        #expect(edges[1] == Float(1) / 15)
        #expect(edges[14] == 1 - Float(1) / 15)
        let doubles = edges.map(Double.init)
        #expect(ClassificationTable.bin(of: Double(edges[1]), edges: doubles) == 1)   // on an edge: the upper bin
        #expect(ClassificationTable.bin(of: Double(edges[1].nextDown), edges: doubles) == 0)
        #expect(ClassificationTable.bin(of: 0.9999999, edges: doubles) == 14)
        #expect(ClassificationTable.bin(of: 1.0, edges: doubles) == 14)
    }

    @Test func exactSumIsOrderIndependentAndCorrectlyRounded() {
        var a = ExactSum()
        for value in [1e16, 1.0, -1e16] { a.add(value) }
        #expect(a.value == 1.0)   // naive left-to-right summation gives 0
        var generator = SeededGenerator(seed: 5)
        let values = (0..<5000).map { _ in Double.random(in: -1...1, using: &generator) * pow(10, Double.random(in: -8...8, using: &generator)) }
        var forward = ExactSum(), backward = ExactSum()
        values.forEach { forward.add($0) }
        values.reversed().forEach { backward.add($0) }
        #expect(forward.value == backward.value)
        var halves = ExactSum(), secondHalf = ExactSum()
        values[..<2500].forEach { halves.add($0) }
        values[2500...].forEach { secondHalf.add($0) }
        halves.merge(secondHalf)
        #expect(halves.value == forward.value)
        // 0.1 added ten times is exactly 1.0000000000000000555…, which rounds to 1.0.
        var tenths = ExactSum()
        for _ in 0..<10 { tenths.add(0.1) }
        #expect(tenths.value == 1.0)
    }

    @Test func argmaxTakesTheFirstOfTiedClasses() {
        let outcome = Outcome(sampleID: "t", label: 1, probabilities: [0.4, 0.4, 0.2], latencyMs: 0)
        #expect(outcome.predicted == 0)
        #expect(outcome.confidence == 0.4)
    }

    @Test func softmaxIsStableForLargeLogits() {
        let p = softmax([1000, 1000, 999][...])
        #expect(abs(p[0] - 0.4223188) < 1e-6 && p[0] == p[1])
        #expect(abs(p.reduce(0, +) - 1) < 1e-6)
    }
}

/// SplitMix64, for reproducible shuffles in tests.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
