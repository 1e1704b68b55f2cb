import Foundation

/// Writes a scenario's version of images: one file, a folder of images, or a golden set, so
/// people can look at a scenario or hand a corrupted copy of a data set to other tools.
///
/// Images are processed in parallel in one process. Each image gets the seed `vigil run` would
/// give it (`Seeds.sample(run:scenario:sampleID:)`): for a golden set the sample ids come from
/// its manifest, so the exported images are byte-identical to what the models saw in a run with
/// the same seed; for a plain folder the sample id is the relative path without its extension.
///
/// ```swift
/// let export = try ScenarioExport(input: URL(fileURLWithPath: "photos"), output: URL(fileURLWithPath: "foggy"),
///                                 scenario: try Scenario(id: "fog@3"), seed: 1)
/// let summary = try await export.run()
/// ```
public struct ScenarioExport: Sendable {
    /// One image to transform: where it is, its sample id, where the result goes.
    public struct Item: Sendable {
        public var input: URL
        public var sampleID: String
        public var output: URL
        /// The sample's annotated boxes (detection golden sets), for box-aware scenarios.
        public var objects: [Box] = []
    }

    public struct Summary: Sendable, Codable {
        public var images: Int
        public var wallSeconds: Double
        /// Time spent inside the scenario's transforms, summed over images (decoding and
        /// encoding excluded), so it can be compared with single-threaded reference code.
        public var transformSeconds: Double
        public var workers: Int

        enum CodingKeys: String, CodingKey {
            case images, wallSeconds = "wall_seconds", transformSeconds = "transform_seconds", workers
        }
    }

    public var scenario: Scenario
    public var seed: UInt64
    public var items: [Item]

    /// Image file extensions a folder is searched for (OpenCV decodes them all).
    public static let imageExtensions: Set<String> = ["png", "jpg", "jpeg", "bmp", "tif", "tiff", "webp", "pgm", "ppm"]

    /// `input` is an image file (then `output` is the output file), a folder of images, or a
    /// golden set folder (with `manifest.json`; then only its samples, and slices apply). A
    /// single file's sample id is its name without the extension unless `sampleID` is given.
    public init(input: URL, output: URL, scenario: Scenario, seed: UInt64, sampleID: String? = nil) throws {
        self.scenario = scenario
        self.seed = seed
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: input.path, isDirectory: &isFolder) else {
            throw InputError("\(DisplayPath.of(input)): no such file or folder")
        }
        let isGoldenSet = isFolder.boolValue && FileManager.default.fileExists(atPath: input.appendingPathComponent("manifest.json").path)
        if scenario.needsObjects && !isGoldenSet {
            throw InputError("scenario '\(scenario.id)' occludes annotated objects; give a detection golden set folder (its boxes say where the objects are)")
        }
        guard isFolder.boolValue else {
            guard sampleID != nil || scenario.slice.isEmpty else {
                throw InputError("scenario '\(scenario.id)' selects samples by tags; give a golden set folder, not one image")
            }
            items = [Item(input: input, sampleID: sampleID ?? input.deletingPathExtension().lastPathComponent, output: output)]
            return
        }
        if sampleID != nil { throw InputError("--sample-id applies to a single image, not a folder") }
        if isGoldenSet {
            let goldenSet = try GoldenSet.load(input)
            if scenario.needsObjects && goldenSet.task != .detection {
                throw InputError("\(DisplayPath.of(input)): scenario '\(scenario.id)' occludes annotated objects; golden set '\(goldenSet.name)' is for classification and has no boxes")
            }
            let samples = goldenSet.samples.filter { scenario.includes(tags: $0.tags) }
            guard !samples.isEmpty else {
                throw InputError("\(DisplayPath.of(input)): scenario '\(scenario.id)' selects no sample of golden set '\(goldenSet.name)'")
            }
            items = samples.map { sample in
                Item(input: goldenSet.url(of: sample), sampleID: sample.id, output: output.appendingPathComponent(sample.path),
                     objects: (sample.objects ?? []).map(\.box))
            }
            return
        }
        guard scenario.slice.isEmpty else {
            throw InputError("\(DisplayPath.of(input)): scenario '\(scenario.id)' selects samples by tags, which only a golden set (manifest.json) has")
        }
        let root = input.standardizedFileURL.path
        var found: [Item] = []
        let enumerator = FileManager.default.enumerator(at: input.standardizedFileURL, includingPropertiesForKeys: [.isRegularFileKey])
        while let url = enumerator?.nextObject() as? URL {
            guard Self.imageExtensions.contains(url.pathExtension.lowercased()) else { continue }
            let relative = String(url.standardizedFileURL.path.dropFirst(root.count + 1))
            found.append(Item(input: url, sampleID: (relative as NSString).deletingPathExtension,
                              output: output.appendingPathComponent(relative)))
        }
        guard !found.isEmpty else { throw InputError("\(DisplayPath.of(input)): no images in this folder (looked for \(Self.imageExtensions.sorted().joined(separator: ", ")))") }
        items = found.sorted { $0.sampleID < $1.sampleID }
    }

    /// Transforms every item, `workers` at a time (default: one per core). Stops at the first
    /// error, which names the file.
    public func run(workers: Int? = nil) async throws -> Summary {
        let started = Date()
        let workerCount = max(1, min(workers ?? ProcessInfo.processInfo.activeProcessorCount, items.count))
        // Parallelism comes from workers; OpenCV's own pool would only oversubscribe the cores.
        let previousThreads = OpenCV.threads
        OpenCV.threads = 1
        defer { OpenCV.threads = previousThreads }
        let transformNanoseconds = SharedCounter()
        let folders = Set(items.map { $0.output.deletingLastPathComponent().path })
        for folder in folders {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<workerCount {
                group.addTask {
                    for index in stride(from: worker, to: items.count, by: workerCount) {
                        try Task.checkCancellation()
                        let item = items[index]
                        let image = try Image(contentsOf: item.input)
                        let clock = ContinuousClock.now
                        let transformed: Image
                        do {
                            transformed = try scenario.apply(to: image, seed: Seeds.sample(run: seed, scenario: scenario, sampleID: item.sampleID),
                                                             objects: item.objects)
                        } catch let error as InputError {
                            throw InputError("\(DisplayPath.of(item.input)): \(error.message)")
                        }
                        let elapsed = ContinuousClock.now - clock
                        _ = transformNanoseconds.add(Int(elapsed.components.seconds) * 1_000_000_000
                                                     + Int(elapsed.components.attoseconds / 1_000_000_000))
                        try transformed.write(to: item.output)
                    }
                }
            }
            try await group.waitForAll()
        }
        return Summary(images: items.count, wallSeconds: Date().timeIntervalSince(started),
                       transformSeconds: Double(transformNanoseconds.add(0)) / 1e9, workers: workerCount)
    }
}
