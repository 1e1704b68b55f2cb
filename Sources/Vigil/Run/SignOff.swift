import Foundation

/// A release sign-off: who approved which run, and exactly what that run was (its verdict,
/// both models' sha256, the golden set's identity, the suite file's sha256, the report's
/// content hash), chained to the record before it in the store's ledger.
///
/// `hash` is the sha256 of ``canonicalText``, which includes `previousHash`, so changing or
/// removing any earlier record breaks every hash after it. With a key, `signature` is an
/// Ed25519 signature of the same text by `publicKey`.
public struct SignOff: Sendable, Hashable, Codable {
    /// 1, 2, … in the store's ledger (all runs together).
    public var position: Int
    public var runID: String
    /// ISO 8601, UTC, milliseconds.
    public var signedAt: String
    public var by: String
    public var role: String
    public var note: String?
    /// Why a failed gate was signed off anyway; nil for a sign-off of a passed gate.
    public var override: String?
    /// The gate's verdict: `pass` or `fail`.
    public var verdict: String
    public var baselineSHA256: String
    public var candidateSHA256: String
    public var goldenSetIdentity: String
    public var suiteSHA256: String
    /// ``ReportHash`` of the report folder; nil for a run without a report.
    public var reportSHA256: String?
    /// The previous record's `hash`; 64 zeros for the first record.
    public var previousHash: String
    public var hash: String
    /// Ed25519 public key (raw 32 bytes, base64) and the signature of `canonicalText` (base64).
    public var publicKey: String?
    public var signature: String?

    public static let firstPreviousHash = String(repeating: "0", count: 64)

    enum CodingKeys: String, CodingKey {
        case position, runID = "run_id", signedAt = "signed_at", by, role, note, override, verdict
        case baselineSHA256 = "baseline_sha256", candidateSHA256 = "candidate_sha256"
        case goldenSetIdentity = "golden_set_identity", suiteSHA256 = "suite_sha256", reportSHA256 = "report_sha256"
        case previousHash = "previous_hash", hash, publicKey = "public_key", signature
    }

    public init(position: Int, runID: String, signedAt: String, by: String, role: String, note: String?, override: String?,
                verdict: String, baselineSHA256: String, candidateSHA256: String, goldenSetIdentity: String,
                suiteSHA256: String, reportSHA256: String?, previousHash: String, publicKey: String? = nil) {
        self.position = position
        self.runID = runID
        self.signedAt = signedAt
        self.by = by
        self.role = role
        self.note = note
        self.override = override
        self.verdict = verdict
        self.baselineSHA256 = baselineSHA256
        self.candidateSHA256 = candidateSHA256
        self.goldenSetIdentity = goldenSetIdentity
        self.suiteSHA256 = suiteSHA256
        self.reportSHA256 = reportSHA256
        self.previousHash = previousHash
        self.publicKey = publicKey
        hash = ""
        hash = computedHash
    }

    /// What the hash and the signature cover: one `name=value` line per field in a fixed order
    /// (the public key included, so a signature cannot be moved to another key), values with
    /// `\`, newline and carriage return escaped as `\\`, `\n`, `\r`, an absent value as `-`
    /// after the name (`note-`), so it cannot be confused with an empty one.
    public var canonicalText: String {
        func escaped(_ value: String) -> String {
            value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
                .replacingOccurrences(of: "\r", with: "\\r")
        }
        let fields: [(String, String?)] = [
            ("position", String(position)), ("run_id", runID), ("signed_at", signedAt), ("by", by), ("role", role),
            ("note", note), ("override", override), ("verdict", verdict), ("baseline_sha256", baselineSHA256),
            ("candidate_sha256", candidateSHA256), ("golden_set_identity", goldenSetIdentity), ("suite_sha256", suiteSHA256),
            ("report_sha256", reportSHA256), ("previous_hash", previousHash), ("public_key", publicKey),
        ]
        return "vigil-signoff-v1\n" + fields.map { name, value in value.map { "\(name)=\(escaped($0))\n" } ?? "\(name)-\n" }.joined()
    }

    /// The sha256 of `canonicalText`, as it is now (`hash` is what was recorded).
    public var computedHash: String { SHA256.hex(of: canonicalText) }

    /// One line: "2026-12-06T10:15:02.120Z  Dana Reyes (QA lead) signed off run … (gate pass)".
    public var summary: String {
        var text = "\(signedAt)  \(by) (\(role)) signed off run \(runID): gate \(verdict == "pass" ? "passed" : "FAILED")"
        if let override { text += ", OVERRIDE: \(override)" }
        if let note { text += " — \(note)" }
        if publicKey != nil { text += " [signed]" }
        return text
    }
}

/// The content hash of a report folder: the sha256 of the lines `<sha256>  <relative path>`
/// (sha256sum's format), one per file, sorted by path, each ending in a newline. Every file
/// counts except `signoffs.html`, the page that lists the sign-offs of that very content.
///
/// `sha256sum` reproduces it: `cd Reports/RUN && find . -type f ! -name signoffs.html -printf
/// '%P\n' | LC_ALL=C sort | xargs sha256sum | sha256sum`.
public enum ReportHash {
    public static let signOffPage = "signoffs.html"

    /// The lines the hash is over, `<sha256>  <path>\n` per counted file, sorted by path
    /// (bytewise, as `LC_ALL=C sort`). Sign-offs keep it, so `verify` can name a changed file.
    public static func listing(of folder: URL) throws -> String {
        let root = folder.standardizedFileURL.resolvingSymlinksInPath()
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else {
            throw InputError("\(DisplayPath.of(folder)): cannot read the report folder")
        }
        var files: [(String, String)] = []
        for case let url as URL in walker {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
            let path = String(url.standardizedFileURL.resolvingSymlinksInPath().path.dropFirst(root.path.count + 1))
            guard path != signOffPage else { continue }
            files.append((path, try SHA256.hex(ofFile: url)))
        }
        guard !files.isEmpty else { throw InputError("\(DisplayPath.of(folder)): the report folder is empty") }
        return files.sorted { Array($0.0.utf8).lexicographicallyPrecedes(Array($1.0.utf8)) }
            .map { "\($0.1)  \($0.0)\n" }.joined()
    }

    /// The content hash of a `listing`.
    public static func hash(ofListing listing: String) -> String { SHA256.hex(of: listing) }

    /// A `listing`'s files: path → sha256.
    public static func files(inListing listing: String) -> [String: String] {
        var files: [String: String] = [:]
        for line in listing.split(separator: "\n") where line.count > 66 {
            files[String(line.dropFirst(66))] = String(line.prefix(64))
        }
        return files
    }
}
