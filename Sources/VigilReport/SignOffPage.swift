import Foundation
import Mustache
import Vigil

/// `signoffs.html` in a report folder: the run's sign-offs, shown in a frame at the top of the
/// report. It is the one file the report's content hash (``ReportHash``) leaves out, so signing
/// a report off can list the sign-off in it without changing what was signed.
public enum SignOffPage {
    public static func write(_ signOffs: [SignOff], runID: String, to folder: URL) throws {
        let context: [String: Any] = [
            "runID": runID,
            "signed": !signOffs.isEmpty,
            "signOffs": signOffs.map { s -> [String: Any] in
                var entry: [String: Any] = ["when": s.signedAt, "by": s.by, "role": s.role, "verdict": s.verdict == "pass" ? "passed" : "FAILED",
                                            "hash": String(s.hash.prefix(12)), "signed": s.publicKey != nil]
                if let note = s.note { entry["note"] = note }
                if let override = s.override { entry["override"] = override }
                return entry
            },
        ]
        let html = try MustacheTemplate(string: template).render(context)
        let url = folder.appendingPathComponent(ReportHash.signOffPage)
        do {
            try html.write(to: url, atomically: true, encoding: .utf8)
        } catch {
            throw InputError("\(DisplayPath.of(url)): cannot write the sign-off page (\(FileProblem.describe(error)))")
        }
    }

    static let template = """
    <!DOCTYPE html>
    <html lang="en"><head><meta charset="utf-8"><title>Sign-offs · {{runID}}</title>
    <style>
      body { font-family: "DejaVu Sans", system-ui, sans-serif; margin: .4rem .6rem; font-size: .85rem; color: #222; }
      ul { margin: .2rem 0; padding-left: 1.2rem; } .muted { color: #666; } .override { color: #D55E00; font-weight: bold; }
      .hash { color: #888; font-family: "DejaVu Sans Mono", monospace; font-size: .75rem; }
    </style></head>
    <body>
    <strong>Sign-off</strong>
    {{^signed}}<p class="muted">Not signed off. <code>vigil signoff {{runID}} --by NAME --role ROLE</code> records one; <code>vigil signoff verify {{runID}}</code> checks it.</p>{{/signed}}
    {{#signed}}<ul>
    {{#signOffs}}<li>{{when}} — <strong>{{by}}</strong> ({{role}}) signed off the gate that {{verdict}}{{#override}} <span class="override">OVERRIDE: {{override}}</span>{{/override}}{{#note}} — {{note}}{{/note}}{{#signed}} · Ed25519-signed{{/signed}} <span class="hash">record {{hash}}</span></li>
    {{/signOffs}}</ul>
    <p class="muted">Check them against the files: <code>vigil signoff verify {{runID}}</code></p>{{/signed}}
    </body></html>
    """
}

/// Writes the HTML report into `folder/<run id>/` and records its path (``Evaluation`` stores it).
public struct HTMLReporter: RunReporter {
    /// The folder holding a folder per run (`folder/<run-id>/index.html`), or with
    /// `folderPerRun` false the report's own folder.
    public var folder: URL
    public var folderPerRun: Bool
    public var galleryLimit: Int
    /// Called as gallery pictures are made, with (done, total), from any thread.
    public var progress: (@Sendable (Int, Int) -> Void)?

    public init(folder: URL, folderPerRun: Bool = true, galleryLimit: Int = HTMLReport.defaultGalleryLimit,
                progress: (@Sendable (Int, Int) -> Void)? = nil) {
        self.folder = folder
        self.folderPerRun = folderPerRun
        self.galleryLimit = galleryLimit
        self.progress = progress
    }

    public func report(_ run: inout ReportedRun) throws {
        guard let goldenSet = run.goldenSet else {
            throw InputError("the HTML report of run \(run.result.id) needs its golden set's images, which are not at hand")
        }
        var report = HTMLReport(result: run.result, goldenSet: goldenSet, galleryLimit: galleryLimit, modelInputs: run.modelInputs,
                                progress: progress, keptImages: run.keptImages)
        report.signOffs = run.signOffs
        report.trend = run.trend
        run.reportPath = try report.write(to: folderPerRun ? folder.appendingPathComponent(run.result.id) : folder).relativePath
    }
}
