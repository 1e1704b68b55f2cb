import Foundation
import Testing
import Vigil
import VigilStore
import VigilTestSupport

/// A store written by schema v7 (Fixtures/store-v7.sqlite: one classification run with a tag
/// slice and one detection run, made by `vigil run`) must read back unchanged by every later
/// Vigil: its results as `vigil show --json` printed them then, and its outcomes as `vigil
/// export` wrote them. A new migration runs on a copy here first.
@Suite("Stores written by earlier schemas read back unchanged")
struct StoreMigrationTests {
    static let fixtures = Repository.url("Tests/VigilStoreTests/Fixtures")
    static let runs = ["20261208-041001-8b35", "20261208-041002-af4a"]

    /// Whether every key of `expected` is in `actual` with the same value (keys added since may
    /// be there too); the first difference's path otherwise.
    static func difference(_ expected: Any, _ actual: Any?, at path: String = "") -> String? {
        switch expected {
        case let object as [String: Any]:
            guard let actual = actual as? [String: Any] else { return "\(path): not an object" }
            for (key, value) in object {
                if let difference = difference(value, actual[key], at: "\(path).\(key)") { return difference }
            }
            return nil
        case let array as [Any]:
            guard let actual = actual as? [Any], actual.count == array.count else { return "\(path): not an array of \(array.count)" }
            for (index, value) in array.enumerated() {
                if let difference = difference(value, actual[index], at: "\(path)[\(index)]") { return difference }
            }
            return nil
        default:
            return (expected as? NSObject) == (actual as? NSObject) ? nil : "\(path): \(expected) became \(actual ?? "nothing")"
        }
    }

    @Test func aVersion7StoreReadsBackUnchanged() throws {
        let folder = try temporaryFolder("store-v7")
        defer { try? FileManager.default.removeItem(at: folder) }
        let copy = folder.appendingPathComponent("history.sqlite")
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("store-v7.sqlite"), to: copy)
        let store = try RunStore(path: copy.path)
        #expect(try store.runs().map(\.id) == Self.runs.reversed())
        for id in Self.runs {
            let now = try JSONSerialization.jsonObject(with: JSONConvention.encoder().encode(store.storedRun(id).result))
            let then = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.fixtures.appendingPathComponent("store-v7-\(id).json")))
            #expect(Self.difference(then, now) == nil, "run \(id): \(Self.difference(then, now) ?? "")")

            let export = folder.appendingPathComponent("\(id).jsonl")
            try store.exportOutcomes(runID: id, format: .jsonl, to: export)
            let rowsThen = try String(contentsOf: Self.fixtures.appendingPathComponent("store-v7-\(id).jsonl"), encoding: .utf8)
                .split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) }
            let rowsNow = try String(contentsOf: export, encoding: .utf8)
                .split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) }
            #expect(Self.difference(rowsThen, rowsNow) == nil, "run \(id) outcomes: \(Self.difference(rowsThen, rowsNow) ?? "")")
            // The outcomes also come back as results: one per sample and scenario, both models.
            let restored = try store.restoredRun(id).result
            for scenario in restored.scenarios {
                #expect(restored.outcomes(scenario.scenario, .baseline)?.count == scenario.candidate.n)
                #expect(restored.outcomes(scenario.scenario, .candidate)?.count == scenario.candidate.n)
            }
        }
    }
}
