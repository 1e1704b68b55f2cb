import Foundation

extension GoldenSet {
    /// The manifest after its files changed on purpose: changed files get their new sha256,
    /// missing files' samples are dropped, and the version is `version` (default: the last
    /// number of the current one plus one, `1.0.0` → `1.0.1`). Files on disk that no sample
    /// lists cannot be added (rehashing does not know their labels or boxes): they are refused,
    /// with the way out (list them, or `ignore:` them). `vigil golden rehash --write` writes it.
    public func rehashed(_ verification: GoldenSetVerification, version: String? = nil) throws -> GoldenSetManifest {
        let shown = DisplayPath.of(root.appendingPathComponent("manifest.json"))
        if let damaged = verification.damaged.first {
            throw InputError("\(shown): \(damaged.path): \(damaged.problem); replace the file, then rehash")
        }
        if let outside = verification.outside.first {
            throw InputError("\(shown): \(outside.path) leads outside the golden set folder (a symbolic link to \(outside.target)); "
                             + "copy the file into the folder, then rehash")
        }
        if !verification.extra.isEmpty {
            let names = verification.extra.prefix(5).joined(separator: ", ") + (verification.extra.count > 5 ? ", …" : "")
            throw InputError("\(shown): \(verification.extra.count) file\(verification.extra.count == 1 ? " is" : "s are") not in the manifest (\(names)); "
                             + "rehash cannot label them: add them as samples, or list them under \"ignore\", then rehash again")
        }
        guard !verification.missing.isEmpty || !verification.changed.isEmpty else {
            throw InputError("\(shown): nothing changed; the manifest stays as it is")
        }
        var manifest = self.manifest
        manifest.version = try version ?? Self.bumped(manifest.version, manifest: shown)
        let newHashes = Dictionary(uniqueKeysWithValues: verification.changed.map { ($0.path, $0.actual) })
        let missing = Set(verification.missing)
        manifest.samples = manifest.samples.compactMap { sample in
            guard !missing.contains(sample.path) else { return nil }
            var sample = sample
            if let hash = newHashes[sample.path] { sample.sha256 = hash }
            return sample
        }
        guard !manifest.samples.isEmpty else { throw InputError("\(shown): every sample's file is missing; nothing would be left") }
        return manifest
    }

    /// `1.0.0` → `1.0.1`, `3` → `4`; versions that do not end in a number need an explicit one.
    static func bumped(_ version: String, manifest: String) throws -> String {
        var parts = version.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let last = parts.last, let number = Int(last) else {
            throw InputError("\(manifest): version '\(version)' does not end in a number; give the new one with --version")
        }
        parts[parts.count - 1] = String(number + 1)
        return parts.joined(separator: ".")
    }

    /// Writes `manifest` as this set's manifest.json (atomically) and loads the result.
    public func write(_ manifest: GoldenSetManifest) throws -> GoldenSet {
        let url = root.appendingPathComponent("manifest.json")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            try encoder.encode(manifest).write(to: url, options: .atomic)
        } catch {
            throw InputError("\(DisplayPath.of(url)): cannot write (\(FileProblem.describe(error)))")
        }
        return try GoldenSet.load(root)
    }
}
