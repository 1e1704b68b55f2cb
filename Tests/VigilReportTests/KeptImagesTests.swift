import Foundation
import Testing
import Vigil
import VigilTestSupport
@testable import VigilReport

/// The scenario images a run keeps for its report: exactly the pairs its galleries show, and a
/// report made from them byte for byte the report made by re-applying the scenarios.
@Suite("Scenario images kept for the report")
struct KeptImagesTests {
    static let galleryLimit = 5

    /// The bundled digits through both bundled digit models, under two noisy scenarios, with
    /// batches of 16 so that the keeper sees many offers and pushes out most failures it took.
    func run(keeping kept: KeptScenarioImages?, in folder: URL) async throws -> (RunResult, GoldenSet) {
        let suite = folder.appendingPathComponent("suite.yaml")
        try """
            suite: kept-images
            golden_set: \(Repository.url("GoldenSets/digits").path)
            baseline: \(Repository.url("Models/mnist-cnn/model.yaml").path)
            candidate: \(Repository.url("Models/digits-mlp/model.yaml").path)
            seed: 11
            batch_size: 16
            bootstrap: 0
            scenarios: [low-light@5, motion-blur@4]
            conditions:
              - metric: accuracy
                scenario: all
                max_regression: 0.5
            """.write(to: suite, atomically: true, encoding: .utf8)
        let loaded = try Suite.load(suite)
        let result = try await SuiteRunner(suite: loaded, options: RunOptions(workers: 2, keptImages: kept)).run()
        return (result, try GoldenSet.load(Repository.url("GoldenSets/digits")))
    }

    /// The (scenario, sample) pairs the classification galleries show.
    func shownPairs(_ result: RunResult, _ set: GoldenSet) -> Set<KeptScenarioImages.Key> {
        let samples = Dictionary(uniqueKeysWithValues: set.samples.map { ($0.id, $0) })
        let index = Dictionary(uniqueKeysWithValues: set.samples.enumerated().map { ($1.id, $0) })
        var pairs: Set<KeptScenarioImages.Key> = []
        for s in result.scenarios {
            for role in ModelRole.allCases {
                guard case .classification(let outcomes)? = result.outcomes(s.scenario, role) else { continue }
                for tile in FailureGallery.worst(outcomes, samples: samples, baseline: nil, limit: Self.galleryLimit) {
                    pairs.insert(.init(scenarioID: s.scenario.id, sample: index[tile.sample.id]!))
                }
            }
        }
        return pairs
    }

    /// The files directly in `folder` (not in its sub-folders), by name.
    func files(under folder: URL) throws -> [String: Data] {
        var isFolder: ObjCBool = false
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter {
            FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path, isDirectory: &isFolder) && !isFolder.boolValue
        }
        return try Dictionary(uniqueKeysWithValues: names.map { ($0, try Data(contentsOf: folder.appendingPathComponent($0))) })
    }

    @Test func keepsWhatTheGalleriesShowAndTheReportIsTheSame() async throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let kept = KeptScenarioImages(limit: Self.galleryLimit)
        let (result, set) = try await run(keeping: kept, in: folder)
        let shown = shownPairs(result, set)
        // Both models fail often under these scenarios, so each list had to push out images.
        #expect(shown.count > Self.galleryLimit * 2)
        #expect(kept.held.images == shown.count)
        for pair in shown { #expect(kept.image(pair) != nil, "\(pair) was not kept") }
        #expect(kept.held.bytes == shown.count * 20 * 20)

        let withKept = folder.appendingPathComponent("with-kept")
        let remade = folder.appendingPathComponent("remade")
        try HTMLReport(result: result, goldenSet: set, galleryLimit: Self.galleryLimit, keptImages: kept).write(to: withKept)
        try HTMLReport(result: result, goldenSet: set, galleryLimit: Self.galleryLimit).write(to: remade)
        let keptPictures = try files(under: withKept.appendingPathComponent("images"))
        #expect(keptPictures.count == shown.count)
        #expect(keptPictures == (try files(under: remade.appendingPathComponent("images"))))
        #expect(try files(under: withKept) == (try files(under: remade)))
    }

    @Test func keepsNothingPastItsByteLimitAndTheReportMakesTheRest() async throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // Room for three 20×20 grey digits.
        let kept = KeptScenarioImages(limit: Self.galleryLimit, byteLimit: 3 * 400)
        let (result, set) = try await run(keeping: kept, in: folder)
        #expect(kept.held.images <= 3 && kept.held.bytes <= 1200)
        let withKept = folder.appendingPathComponent("with-kept")
        let remade = folder.appendingPathComponent("remade")
        try HTMLReport(result: result, goldenSet: set, galleryLimit: Self.galleryLimit, keptImages: kept).write(to: withKept)
        try HTMLReport(result: result, goldenSet: set, galleryLimit: Self.galleryLimit).write(to: remade)
        #expect(try files(under: withKept.appendingPathComponent("images")) == (try files(under: remade.appendingPathComponent("images"))))
    }

    /// Offers in any order keep the same images: the `limit` most confident failures per model,
    /// ties broken by sample id, as the gallery orders them.
    @Test func theOrderOfOffersDoesNotMatter() throws {
        let image = try Image(width: 2, height: 2, channels: 1, pixels: [0, 1, 2, 3])
        // Sample i is wrong with confidence from a small set, so that ties occur; every third is right.
        let outcomes = (0..<30).map { i in
            let confidence = Float([0.9, 0.6, 0.6, 0.75][i % 4])
            return Outcome(sampleID: String(format: "s%02d", i), label: i % 3 == 0 ? 0 : 1,
                           probabilities: [confidence, 1 - confidence], latencyMs: 0)
        }
        let expected = Set(outcomes.filter { !$0.correct }.sorted(by: Outcome.shownFirst).prefix(4)
            .map { KeptScenarioImages.Key(scenarioID: "clean", sample: Int($0.sampleID.dropFirst())!) })
        for order in [Array(0..<30), Array((0..<30).reversed()), [5, 17, 2, 29, 0, 11, 23, 8, 14, 20] + (0..<30).filter { ![5, 17, 2, 29, 0, 11, 23, 8, 14, 20].contains($0) }] {
            let kept = KeptScenarioImages(limit: 4)
            for chunk in stride(from: 0, to: order.count, by: 7).map({ Array(order[$0..<min($0 + 7, order.count)]) }) {
                kept.offer(scenarioID: "clean", samples: chunk, images: chunk.map { _ in image },
                           outcomes: [.candidate: chunk.map { outcomes[$0] }])
            }
            #expect(kept.held.images == 4)
            for key in expected { #expect(kept.image(key) != nil, "order \(order.prefix(3)): \(key) missing") }
        }
    }
}
