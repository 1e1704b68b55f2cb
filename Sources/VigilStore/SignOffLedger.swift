import Foundation
import GRDB
import Vigil

/// The sign-off ledger: who approved which run, appended to the store and chained by hash.
extension RunStore {
    /// Appends a sign-off of a complete run: its verdict, both models' sha256, the golden set's
    /// identity, the suite file's sha256 and the report's content hash (``ReportHash``, over
    /// the report folder as it is on disk now), chained to the ledger's last record. A failed
    /// gate is refused unless `override` gives the reason, which becomes part of the record.
    public func signOff(runID: String, by: String, role: String, note: String? = nil, override: String? = nil,
                        key: SignOffKey? = nil, at date: Date = Date()) throws -> SignOff {
        for (option, value) in [("--by", by), ("--role", role)] where value.trimmingCharacters(in: .whitespaces).isEmpty {
            throw InputError("\(option) is empty; a sign-off names who signed and in which role")
        }
        if let override, override.trimmingCharacters(in: .whitespaces).isEmpty {
            throw InputError("--override is empty; give the reason the failed gate is accepted")
        }
        let run = try signedRun(runID)
        if !run.passed, override == nil {
            throw InputError("run \(runID) FAILED its gate; signing it off needs --override REASON, which is recorded with the sign-off and shown wherever it is")
        }
        if run.passed, override != nil {
            throw InputError("run \(runID) passed its gate; --override is only for signing off a failed gate")
        }
        var reportFiles: String?
        if let folder = run.reportFolder {
            guard FileManager.default.fileExists(atPath: folder.path) else {
                throw InputError("\(DisplayPath.of(folder)): run \(runID)'s report is not there; a sign-off covers the report people saw (run from the folder the run was made in)")
            }
            reportFiles = try ReportHash.listing(of: folder)
        }
        return try write { db in
            let last = try Row.fetchOne(db, sql: "SELECT position, hash FROM signoffs ORDER BY position DESC LIMIT 1")
            var record = SignOff(
                position: (last?["position"] as Int? ?? 0) + 1, runID: runID, signedAt: Self.timestamp(date), by: by, role: role,
                note: note, override: override, verdict: run.passed ? "pass" : "fail",
                baselineSHA256: run.baselineSHA256, candidateSHA256: run.candidateSHA256,
                goldenSetIdentity: run.goldenSetIdentity, suiteSHA256: run.suiteSHA256,
                reportSHA256: reportFiles.map(ReportHash.hash(ofListing:)), previousHash: last?["hash"] ?? SignOff.firstPreviousHash,
                publicKey: key?.publicKey)
            record.signature = try key?.sign(record.canonicalText)
            try db.execute(sql: """
                INSERT INTO signoffs (position, run_id, signed_at, signed_by, role, note, override, verdict, baseline_sha256,
                    candidate_sha256, golden_set_identity, suite_sha256, report_sha256, report_files, previous_hash, hash,
                    public_key, signature)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [record.position, record.runID, record.signedAt, record.by, record.role, record.note, record.override,
                                 record.verdict, record.baselineSHA256, record.candidateSHA256, record.goldenSetIdentity,
                                 record.suiteSHA256, record.reportSHA256, reportFiles, record.previousHash, record.hash,
                                 record.publicKey, record.signature])
            return record
        }
    }

    /// A run's sign-offs, oldest first.
    public func signOffs(runID: String) throws -> [SignOff] {
        try read { db in try Self.signOffs(db, runID: runID).map(\.record) }
    }

    /// Sign-offs of the ledger (one run's, or all), with the report listing each recorded.
    static func signOffs(_ db: Database, runID: String?) throws -> [(record: SignOff, reportFiles: String?)] {
        try Row.fetchAll(db, sql: "SELECT * FROM signoffs WHERE ? IS NULL OR run_id = ? ORDER BY position",
                         arguments: [runID, runID]).map { row in
            var record = SignOff(
                position: row["position"], runID: row["run_id"], signedAt: row["signed_at"], by: row["signed_by"], role: row["role"],
                note: row["note"], override: row["override"], verdict: row["verdict"], baselineSHA256: row["baseline_sha256"],
                candidateSHA256: row["candidate_sha256"], goldenSetIdentity: row["golden_set_identity"],
                suiteSHA256: row["suite_sha256"], reportSHA256: row["report_sha256"], previousHash: row["previous_hash"],
                publicKey: row["public_key"])
            // As stored, not as recomputed: verification compares the two.
            record.hash = row["hash"]
            record.signature = row["signature"]
            return (record, row["report_files"])
        }
    }

    /// What a sign-off is about, from the run's row.
    struct SignedRun {
        var passed: Bool
        var baselineSHA256: String
        var candidateSHA256: String
        var goldenSetIdentity: String
        var suiteSHA256: String
        var suitePath: String
        var reportFolder: URL?
    }

    func signedRun(_ runID: String) throws -> SignedRun {
        try read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [runID]) else {
                throw InputError("\(self.path): no run '\(runID)' (see `vigil history`)")
            }
            let status: String = row["status"]
            guard status == "complete" else { throw InputError("run \(runID) is \(status); only a complete run can be signed off") }
            let report: String? = row["report_path"]
            return SignedRun(passed: row["passed"], baselineSHA256: row["baseline_sha256"], candidateSHA256: row["candidate_sha256"],
                             goldenSetIdentity: row["golden_set_identity"], suiteSHA256: row["suite_sha256"],
                             suitePath: row["suite_path"],
                             reportFolder: report.map { URL(fileURLWithPath: $0).deletingLastPathComponent() })
        }
    }
}

/// What `vigil signoff verify` checked, item by item.
public struct SignOffVerification: Sendable {
    public struct Check: Sendable {
        /// What was checked: "ledger", "sign-off 3: signature", "baseline model Models/…", …
        public var item: String
        public var passed: Bool
        /// The numbers: what was recorded, what was found.
        public var detail: String
    }

    public var runID: String
    public var signOffs: [SignOff]
    public var checks: [Check]
    public var isValid: Bool { !signOffs.isEmpty && checks.allSatisfy(\.passed) }
}

extension RunStore {
    /// Checks a run's sign-offs against the ledger and the files on disk: every record's hash
    /// and its link to the one before (the whole ledger, so an edited or removed record
    /// anywhere shows), each signature (by a key in `trusted`, base64, when any are given; an
    /// unsigned record then fails), and the run's models, golden set, suite file and report,
    /// recomputed from their files (paths as the run recorded them, relative to the folder the
    /// run was made in).
    public func verifySignOffs(runID: String, trusted: [String] = []) throws -> SignOffVerification {
        let (all, result) = try read { db -> ([(record: SignOff, reportFiles: String?)], RunResult?) in
            (try Self.signOffs(db, runID: nil), try self.result(db, runID: runID))
        }
        let run = try signedRun(runID)
        var checks: [SignOffVerification.Check] = []
        func check(_ item: String, _ passed: Bool, _ detail: String) {
            checks.append(.init(item: item, passed: passed, detail: detail))
        }

        // The chain, over the whole ledger.
        var previous = SignOff.firstPreviousHash
        var broken: [String] = []
        for (index, entry) in all.enumerated() {
            let record = entry.record
            if record.position != index + 1 { broken.append("record \(index + 1) is missing (the next is \(record.position))") }
            if record.previousHash != previous { broken.append("record \(record.position) does not follow the record before it") }
            if record.computedHash != record.hash { broken.append("record \(record.position)'s content does not match its hash (edited)") }
            if let files = entry.reportFiles, let recorded = record.reportSHA256, ReportHash.hash(ofListing: files) != recorded {
                broken.append("record \(record.position)'s report listing does not match its report hash (edited)")
            }
            previous = record.hash
        }
        check("ledger", broken.isEmpty, broken.isEmpty ? "\(all.count) record\(all.count == 1 ? "" : "s"), each chained to the one before" : broken.joined(separator: "; "))

        let mine = all.filter { $0.record.runID == runID }
        for (record, reportFiles) in mine {
            let name = "sign-off \(record.position) by \(record.by) (\(record.role))"
            if let key = record.publicKey, let signature = record.signature {
                let valid = SignOffKey.isValid(signature: signature, of: record.canonicalText, publicKey: key)
                let trustedKey = trusted.isEmpty || trusted.contains(key)
                check("\(name): signature", valid && trustedKey,
                      !valid ? "the Ed25519 signature does not match the record (key \(SignOffKey.fingerprint(key)))"
                      : trustedKey ? "valid, key \(SignOffKey.fingerprint(key))\(trusted.isEmpty ? " (no --trust given: the key is not checked against a trusted one)" : ", trusted")"
                      : "valid, but key \(SignOffKey.fingerprint(key)) is not among the --trust keys")
            } else {
                check("\(name): signature", trusted.isEmpty, trusted.isEmpty ? "not signed (no --key was given)" : "not signed, and --trust asks for a signature")
            }
            let recorded: [(String, String, String)] = [
                ("baseline sha256", record.baselineSHA256, run.baselineSHA256), ("candidate sha256", record.candidateSHA256, run.candidateSHA256),
                ("golden set identity", record.goldenSetIdentity, run.goldenSetIdentity), ("suite sha256", record.suiteSHA256, run.suiteSHA256),
                ("verdict", record.verdict, run.passed ? "pass" : "fail"),
            ]
            let differing = recorded.filter { $0.1 != $0.2 }
            check("\(name): run record", differing.isEmpty, differing.isEmpty
                  ? "the run in the store is the one signed off"
                  : differing.map { "\($0.0): signed \($0.1.prefix(12))…, the store now says \($0.2.prefix(12))…" }.joined(separator: "; "))
            checks += Self.checkReport(record, files: reportFiles, folder: run.reportFolder, item: name)
        }

        // The files the run was made from, as they are now.
        if let first = mine.first?.record {
            if let result {
                for (role, model, signed) in [("baseline", result.baseline, first.baselineSHA256), ("candidate", result.candidate, first.candidateSHA256)] {
                    checks.append(Self.checkModel(role: role, spec: model.spec, signed: signed))
                }
                let goldenPath = result.goldenSet.path
                do {
                    let goldenSet = try GoldenSet.load(URL(fileURLWithPath: goldenPath))
                    let verification = goldenSet.verify()
                    let same = goldenSet.identity == first.goldenSetIdentity
                    check("golden set \(goldenPath)", same && verification.isValid,
                          !verification.isValid ? "its files changed: " + verification.problems.prefix(3).joined(separator: "; ")
                          : same ? "identity \(goldenSet.identity.prefix(12))…, all \(verification.sampleCount) files as listed"
                          : "identity is \(goldenSet.identity.prefix(12))…, the sign-off says \(first.goldenSetIdentity.prefix(12))…")
                } catch let error as InputError {
                    check("golden set \(goldenPath)", false, error.message)
                }
            }
            let suiteURL = URL(fileURLWithPath: run.suitePath)
            if let actual = try? SHA256.hex(ofFile: suiteURL) {
                check("suite \(run.suitePath)", actual == first.suiteSHA256,
                      actual == first.suiteSHA256 ? "sha256 \(actual.prefix(12))…" : "sha256 is \(actual.prefix(12))…, the sign-off says \(first.suiteSHA256.prefix(12))…")
            } else {
                check("suite \(run.suitePath)", false, "the file cannot be read")
            }
        }
        return SignOffVerification(runID: runID, signOffs: mine.map(\.record), checks: checks)
    }

    static func checkModel(role: String, spec: String, signed: String) -> SignOffVerification.Check {
        let item = "\(role) model \(spec)"
        do {
            let loaded = try ModelSpec.load(URL(fileURLWithPath: spec), displayPath: spec)
            guard let file = loaded.modelFileURL else {
                return .init(item: item, passed: loaded.sha256 == nil || loaded.sha256 == signed,
                             detail: "a served model: identified by the spec's pin \(loaded.sha256.map { String($0.prefix(12)) + "…" } ?? "(none)"), not by a file")
            }
            let actual = try SHA256.hex(ofFile: file)
            return .init(item: item, passed: actual == signed, detail: actual == signed
                         ? "\(DisplayPath.of(file)): sha256 \(actual.prefix(12))…"
                         : "\(DisplayPath.of(file)): sha256 is \(actual.prefix(12))…, the sign-off says \(signed.prefix(12))…")
        } catch let error as InputError {
            return .init(item: item, passed: false, detail: error.message)
        } catch {
            return .init(item: item, passed: false, detail: "\(error)")
        }
    }

    /// The report folder now against the listing the sign-off recorded: which files changed,
    /// appeared or went missing.
    static func checkReport(_ record: SignOff, files: String?, folder: URL?, item: String) -> [SignOffVerification.Check] {
        guard let signedHash = record.reportSHA256 else {
            return [.init(item: "\(item): report", passed: true, detail: "the run had no report when it was signed off")]
        }
        guard let folder else { return [.init(item: "\(item): report", passed: false, detail: "the store no longer names the run's report")] }
        let shown = DisplayPath.of(folder)
        let now: String
        do {
            now = try ReportHash.listing(of: folder)
        } catch let error as InputError {
            return [.init(item: "\(item): report \(shown)", passed: false, detail: error.message)]
        } catch {
            return [.init(item: "\(item): report \(shown)", passed: false, detail: "\(error)")]
        }
        let actual = ReportHash.hash(ofListing: now)
        let current = ReportHash.files(inListing: now)
        guard actual != signedHash else {
            return [.init(item: "\(item): report \(shown)", passed: true, detail: "content hash \(actual.prefix(12))… over \(current.count) files")]
        }
        let then = ReportHash.files(inListing: files ?? "")
        let changed = current.keys.filter { then[$0] != nil && then[$0] != current[$0] }.sorted()
        let added = current.keys.filter { then[$0] == nil }.sorted()
        let removed = then.keys.filter { current[$0] == nil }.sorted()
        var parts: [String] = []
        if !changed.isEmpty { parts.append("changed: " + changed.prefix(5).joined(separator: ", ") + (changed.count > 5 ? ", …" : "")) }
        if !added.isEmpty { parts.append("added: " + added.prefix(5).joined(separator: ", ") + (added.count > 5 ? ", …" : "")) }
        if !removed.isEmpty { parts.append("missing: " + removed.prefix(5).joined(separator: ", ") + (removed.count > 5 ? ", …" : "")) }
        return [.init(item: "\(item): report \(shown)", passed: false,
                      detail: "content hash is \(actual.prefix(12))…, the sign-off says \(signedHash.prefix(12))…" + (parts.isEmpty ? "" : " (\(parts.joined(separator: "; ")))"))]
    }
}
