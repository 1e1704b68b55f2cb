import Foundation
import Testing
import VigilTestSupport
@testable import Vigil

/// Copies `count` samples of the bundled digits golden set (every `step`-th) into a new golden
/// set folder, so tests can run quickly and damage their copy freely.
func makeDigitsSubset(in folder: URL, count: Int = 60, step: Int = 17) throws -> URL {
    let source = try GoldenSet.load(Repository.url("GoldenSets/digits"))
    return try copySubset(of: source, samples: stride(from: 0, to: source.samples.count, by: step).prefix(count).map { source.samples[$0] },
                          name: "digits-subset", into: folder)
}

/// Copies `samples` of a golden set (images and manifest entries) into `folder/name`, as a
/// golden set called `name`.
func copySubset(of source: GoldenSet, samples: [Sample], name: String, into folder: URL) throws -> URL {
    var manifest = source.manifest
    manifest.samples = samples
    manifest.name = name
    let target = folder.appendingPathComponent(name)
    for sample in manifest.samples {
        let destination = target.appendingPathComponent(sample.path)
        try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: source.url(of: sample), to: destination)
    }
    try writeManifest(manifest, to: target)
    return target
}

func writeManifest(_ manifest: GoldenSetManifest, to folder: URL) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    try encoder.encode(manifest).write(to: folder.appendingPathComponent("manifest.json"))
}

/// Writes a suite file over the bundled models and a given golden set.
func writeSuite(in folder: URL, goldenSet: URL, scenarios: String = "[clean, low-light@3]",
                conditions: String = "", extra: String = "") throws -> URL {
    let text = """
        suite: test-suite
        golden_set: \(goldenSet.path)
        baseline: \(Repository.url("Models/mnist-cnn/model.yaml").path)
        candidate: \(Repository.url("Models/digits-mlp/model.yaml").path)
        seed: 7
        batch_size: 16
        scenarios: \(scenarios)
        \(extra)
        conditions:
          - metric: accuracy
            scenario: all
            max_regression: 0.01
        \(conditions)
        """
    let url = folder.appendingPathComponent("suite.yaml")
    try text.write(to: url, atomically: true, encoding: .utf8)
    return url
}

