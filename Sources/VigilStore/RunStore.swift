import Foundation
import GRDB
import Synchronization
import Vigil

/// Vigil's run history in one SQLite file (default `.vigil/history.sqlite`).
///
/// A run is recorded in two steps: `begin` inserts it as `incomplete` as soon as its inputs are
/// known to be valid, and `complete` writes its metrics, verdicts and per-sample outcomes and
/// marks it `complete` in one transaction. A run that was interrupted therefore stays visibly
/// `incomplete`, and no reader ever sees half of a run's outcomes. The schema is documented in
/// `Sources/VigilStore/SCHEMA.md` for people who query it with the `sqlite3` CLI.
public final class RunStore: RunRecorder, @unchecked Sendable {
    // @unchecked: DatabaseQueue serialises all access itself.
    public let path: String
    private let queue: DatabaseQueue

    public static let defaultPath = ".vigil/history.sqlite"

    /// How long a store held by another process is waited for before giving up.
    public static let lockWaitSeconds = 120

    /// Opens (creating if needed) the store at `path`, migrating its schema. While another
    /// process holds the store (a run writing, someone's `sqlite3` session in a transaction)
    /// it waits up to `lockWaitSeconds`, calling `waiting` once with a message after two
    /// seconds so that a run that pauses says why.
    public init(path: String, waiting: (@Sendable (String) -> Void)? = nil) throws {
        guard !path.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw InputError("the run store's path is empty; give an SQLite file's path")
        }
        self.path = path
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            var configuration = Configuration()
            configuration.foreignKeysEnabled = true
            configuration.busyMode = .callback(Self.waitForLock(path: path, notice: waiting))
            queue = try DatabaseQueue(path: path, configuration: configuration)
            try Self.migrate(queue, path: path)
        } catch let error as DatabaseError {
            throw Self.problem(error, path: path, doing: "cannot open the run store")
        } catch let error as CocoaError {
            throw InputError("\(path): cannot create the run store's folder: \(FileProblem.describe(error))")
        }
    }

    /// SQLite's busy handler: it is called again each time the lock is still held, and sleeps
    /// 10 ms per call, so `tries` counts hundredths of a second.
    static func waitForLock(path: String, notice: (@Sendable (String) -> Void)?) -> Database.BusyCallback {
        let told = FirstTime()
        return { tries in
            if tries == 200, let notice, told.claim() {
                notice("\(path): the run store is locked by another process (a run writing, or a reader holding a transaction); "
                       + "waiting up to \(lockWaitSeconds / 60) minutes")
            }
            guard tries < lockWaitSeconds * 100 else { return false }
            usleep(10_000)
            return true
        }
    }

    /// Applies the migrations this store lacks, all in one exclusive transaction: processes
    /// opening a new store at once wait for each other instead of racing to create its tables.
    /// A store with a migration this version does not know was written by a newer Vigil, and
    /// is refused before anything is read or written.
    static func migrate(_ queue: DatabaseQueue, path: String) throws {
        try queue.writeWithoutTransaction { db in
            try db.inTransaction(.exclusive) {
                try db.execute(sql: "CREATE TABLE IF NOT EXISTS grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
                let applied = try String.fetchSet(db, sql: "SELECT identifier FROM grdb_migrations")
                let known = Set(migrations.map(\.identifier))
                if let unknown = applied.subtracting(known).sorted().first {
                    let writer = try String.fetchOne(db, sql: "SELECT vigil_version FROM runs ORDER BY started_at DESC LIMIT 1")
                    throw InputError("\(path): this run store was written by a newer Vigil\(writer.map { " (\($0))" } ?? "") "
                                     + "with schema '\(unknown)', which Vigil \(VigilVersion.string) does not know (it knows up to "
                                     + "'\(migrations.last!.identifier)'); use that Vigil, or another store")
                }
                for migration in migrations where !applied.contains(migration.identifier) {
                    try db.execute(sql: migration.sql)
                    try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES (?)", arguments: [migration.identifier])
                }
                return .commit
            }
        }
    }

    /// One line for an SQLite failure: a lock that outlasted the wait says so.
    static func problem(_ error: DatabaseError, path: String, doing: String) -> InputError {
        if error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED {
            return InputError("\(path): \(doing): another process kept the run store locked for \(lockWaitSeconds / 60) minutes "
                              + "(a run still writing, or a reader holding a transaction: end it, or give another --store)")
        }
        return InputError("\(path): \(doing): \(error.message ?? "\(error)")")
    }

    /// The schema's migrations, in order: (identifier, SQL). The identifiers are recorded in
    /// `grdb_migrations` (the table GRDB's migrator used for the stores written before this list).
    static let migrations: [(identifier: String, sql: String)] = [
        ("v1", """
                CREATE TABLE runs (
                    id TEXT PRIMARY KEY,
                    started_at TEXT NOT NULL,
                    finished_at TEXT,
                    status TEXT NOT NULL CHECK (status IN ('incomplete', 'complete', 'failed')),
                    error TEXT,
                    suite_name TEXT NOT NULL,
                    suite_path TEXT NOT NULL,
                    suite_sha256 TEXT NOT NULL,
                    golden_set_name TEXT NOT NULL,
                    golden_set_version TEXT NOT NULL,
                    golden_set_identity TEXT NOT NULL,
                    seed INTEGER NOT NULL,
                    batch_size INTEGER NOT NULL,
                    baseline_name TEXT NOT NULL,
                    baseline_sha256 TEXT NOT NULL,
                    baseline_identity TEXT NOT NULL,
                    candidate_name TEXT NOT NULL,
                    candidate_sha256 TEXT NOT NULL,
                    candidate_identity TEXT NOT NULL,
                    git_commit TEXT,
                    vigil_version TEXT NOT NULL,
                    opencv_version TEXT NOT NULL,
                    passed INTEGER,
                    result_json TEXT
                );
                CREATE TABLE scenario_metrics (
                    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    scenario TEXT NOT NULL,
                    role TEXT NOT NULL CHECK (role IN ('baseline', 'candidate')),
                    metric TEXT NOT NULL,
                    class TEXT NOT NULL DEFAULT '',
                    value REAL,
                    PRIMARY KEY (run_id, scenario, role, metric, class)
                );
                CREATE TABLE verdicts (
                    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    position INTEGER NOT NULL,
                    scenario TEXT NOT NULL,
                    metric TEXT NOT NULL,
                    rule TEXT NOT NULL,
                    threshold REAL NOT NULL,
                    baseline REAL,
                    candidate REAL,
                    delta REAL,
                    passed INTEGER NOT NULL,
                    explanation TEXT NOT NULL,
                    source TEXT NOT NULL,
                    PRIMARY KEY (run_id, position)
                );
                CREATE TABLE outcomes (
                    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    scenario TEXT NOT NULL,
                    scenario_version INTEGER NOT NULL,
                    role TEXT NOT NULL CHECK (role IN ('baseline', 'candidate')),
                    model_identity TEXT NOT NULL,
                    sample_index INTEGER NOT NULL,
                    sample_id TEXT NOT NULL,
                    label INTEGER NOT NULL,
                    predicted INTEGER NOT NULL,
                    confidence REAL NOT NULL,
                    correct INTEGER NOT NULL,
                    latency_ms REAL NOT NULL,
                    probabilities BLOB NOT NULL,
                    computed_in TEXT NOT NULL,
                    PRIMARY KEY (run_id, scenario, role, sample_index)
                );
                CREATE INDEX outcomes_by_model ON outcomes (model_identity, scenario, scenario_version);
            """),
        ("v2: verdict statistics", """
                ALTER TABLE verdicts ADD COLUMN ci_lower REAL;
                ALTER TABLE verdicts ADD COLUMN ci_upper REAL;
                ALTER TABLE verdicts ADD COLUMN ci_level REAL;
                ALTER TABLE verdicts ADD COLUMN p_value REAL;
            """),
        ("v3: slices and robustness", """
                ALTER TABLE verdicts ADD COLUMN flag TEXT;
                CREATE TABLE robustness (
                    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    reference TEXT NOT NULL,
                    corruption TEXT NOT NULL,
                    role TEXT NOT NULL,
                    score TEXT NOT NULL,
                    value REAL,
                    PRIMARY KEY (run_id, corruption, role, score)
                );
            """),
        ("v4: detection", """
                CREATE TABLE detection_outcomes (
                    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    scenario TEXT NOT NULL,
                    scenario_version INTEGER NOT NULL,
                    role TEXT NOT NULL CHECK (role IN ('baseline', 'candidate')),
                    model_identity TEXT NOT NULL,
                    sample_index INTEGER NOT NULL,
                    sample_id TEXT NOT NULL,
                    detections INTEGER NOT NULL,
                    true_positives INTEGER NOT NULL,
                    false_positives INTEGER NOT NULL,
                    misses INTEGER NOT NULL,
                    latency_ms REAL,
                    computed_in TEXT NOT NULL,
                    PRIMARY KEY (run_id, scenario, role, sample_index)
                );
                CREATE INDEX detection_outcomes_by_model ON detection_outcomes (model_identity, scenario, scenario_version);
                CREATE TABLE detection_boxes (
                    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    scenario TEXT NOT NULL,
                    role TEXT NOT NULL CHECK (role IN ('baseline', 'candidate')),
                    sample_index INTEGER NOT NULL,
                    kind TEXT NOT NULL CHECK (kind IN ('detection', 'truth')),
                    box_index INTEGER NOT NULL,
                    class_index INTEGER NOT NULL,
                    class TEXT NOT NULL,
                    x REAL NOT NULL,
                    y REAL NOT NULL,
                    width REAL NOT NULL,
                    height REAL NOT NULL,
                    score REAL,
                    status TEXT NOT NULL,
                    matched_box INTEGER,
                    PRIMARY KEY (run_id, scenario, role, sample_index, kind, box_index)
                );
            """),
        // Parameters a suite set for its scenarios (`params:`); '' for the defaults.
        ("v5: scenario parameters", """
                ALTER TABLE outcomes ADD COLUMN scenario_parameters TEXT NOT NULL DEFAULT '';
                ALTER TABLE detection_outcomes ADD COLUMN scenario_parameters TEXT NOT NULL DEFAULT '';
            """),
        // Where the run's HTML report was written, once it was written whole; NULL without one.
        ("v6: report", """
                ALTER TABLE runs ADD COLUMN report_path TEXT;
            """),
        // The sign-off ledger: append-only (triggers refuse updates and deletes), each record
        // chained to the one before by its hash (see SignOff.canonicalText).
        ("v7: sign-offs", """
                CREATE TABLE signoffs (
                    position INTEGER PRIMARY KEY,
                    run_id TEXT NOT NULL REFERENCES runs(id),
                    signed_at TEXT NOT NULL,
                    signed_by TEXT NOT NULL,
                    role TEXT NOT NULL,
                    note TEXT,
                    override TEXT,
                    verdict TEXT NOT NULL CHECK (verdict IN ('pass', 'fail')),
                    baseline_sha256 TEXT NOT NULL,
                    candidate_sha256 TEXT NOT NULL,
                    golden_set_identity TEXT NOT NULL,
                    suite_sha256 TEXT NOT NULL,
                    report_sha256 TEXT,
                    report_files TEXT,
                    previous_hash TEXT NOT NULL,
                    hash TEXT NOT NULL,
                    public_key TEXT,
                    signature TEXT
                );
                CREATE INDEX signoffs_by_run ON signoffs (run_id);
                CREATE TRIGGER signoffs_append_only_update BEFORE UPDATE ON signoffs
                BEGIN SELECT RAISE(ABORT, 'the sign-off ledger is append-only'); END;
                CREATE TRIGGER signoffs_append_only_delete BEFORE DELETE ON signoffs
                BEGIN SELECT RAISE(ABORT, 'the sign-off ledger is append-only'); END;
            """),
    ]

    /// Robustness scores as rows: per corruption `ce` and `relative_ce`; under the corruption
    /// name `*` the summaries `mce`, `relative_mce`, `mpc`, `rpc`. Undefined scores are NULL.
    static func flatten(_ r: RobustnessScores) -> [(String, ModelRole, String, Double?)] {
        var rows: [(String, ModelRole, String, Double?)] = []
        for c in r.corruptions {
            for (role, score) in [(ModelRole.baseline, c.baseline), (.candidate, c.candidate)] {
                rows += [(c.family, role, "ce", score.ce), (c.family, role, "relative_ce", score.relativeCE)]
            }
        }
        for (role, s) in [(ModelRole.baseline, r.baseline), (.candidate, r.candidate)] {
            rows += [("*", role, "mce", s.mCE), ("*", role, "relative_mce", s.relativeMCE), ("*", role, "mpc", s.mPC), ("*", role, "rpc", s.rPC)]
        }
        return rows
    }

    // MARK: - Recording runs

    /// Records a run as started (`incomplete`), once its inputs are known to be valid.
    public func begin(runID: String, startedAt: Date, suite: Suite, prepared: SuiteRunner.Prepared) throws {
        try begin(runID: runID, startedAt: startedAt, suite: SuiteInfo(suite), goldenSet: GoldenSetInfo(prepared.goldenSet),
                  seed: suite.seed, batchSize: suite.batchSize, baseline: prepared.baselineInfo, candidate: prepared.candidateInfo)
    }

    public func begin(runID: String, startedAt: Date, suite: SuiteInfo, goldenSet: GoldenSetInfo, seed: UInt64,
                      batchSize: Int, baseline: ModelInfo, candidate: ModelInfo) throws {
        try write { db in
            try db.execute(sql: """
                INSERT INTO runs (id, started_at, status, suite_name, suite_path, suite_sha256,
                    golden_set_name, golden_set_version, golden_set_identity, seed, batch_size,
                    baseline_name, baseline_sha256, baseline_identity,
                    candidate_name, candidate_sha256, candidate_identity,
                    vigil_version, opencv_version)
                VALUES (?, ?, 'incomplete', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [
                    runID, Self.timestamp(startedAt), suite.name, suite.path, suite.sha256,
                    goldenSet.name, goldenSet.version, goldenSet.identity, Int64(bitPattern: seed), batchSize,
                    baseline.name, baseline.sha256, baseline.identity,
                    candidate.name, candidate.sha256, candidate.identity,
                    VigilVersion.string, OpenCV.version,
                ])
        }
    }

    /// Marks a started run as failed, with the reason.
    /// Records that the run's report was written whole at `path`.
    public func recordReport(runID: String, path: String) throws {
        try write { db in
            try db.execute(sql: "UPDATE runs SET report_path = ? WHERE id = ?", arguments: [path, runID])
        }
    }

    public func fail(runID: String, error: String) throws {
        try write { db in
            try db.execute(sql: "UPDATE runs SET status = 'failed', error = ?, finished_at = ? WHERE id = ?",
                           arguments: [error, Self.timestamp(Date()), runID])
        }
    }

    /// Writes everything the run produced and marks it complete, in one transaction.
    public func complete(_ result: RunResult) throws {
        let json = String(decoding: try RunResult.jsonEncoder().encode(result), as: UTF8.self)
        try write { db in
            try db.execute(sql: """
                UPDATE runs SET status = 'complete', finished_at = ?, passed = ?, git_commit = ?, result_json = ?
                WHERE id = ? AND status = 'incomplete'
                """, arguments: [Self.timestamp(result.finishedAt), result.passed, result.environment.gitCommit, json, result.id])
            guard db.changesCount == 1 else {
                throw InputError("run \(result.id) is not an incomplete run in \(self.path); call begin first")
            }
            let metric = try db.makeStatement(sql: """
                INSERT INTO scenario_metrics (run_id, scenario, role, metric, class, value) VALUES (?, ?, ?, ?, ?, ?)
                """)
            for scenario in result.scenarios {
                for (role, metrics) in [(ModelRole.baseline, scenario.baseline), (.candidate, scenario.candidate)] {
                    for (key, value) in Self.flatten(metrics) {
                        try metric.execute(arguments: [result.id, scenario.scenario.id, role.rawValue,
                                                       key.metric.rawValue, key.className ?? "", value])
                    }
                }
            }
            let verdict = try db.makeStatement(sql: """
                INSERT INTO verdicts (run_id, position, scenario, metric, rule, threshold, baseline, candidate, delta,
                    passed, explanation, source, ci_lower, ci_upper, ci_level, p_value, flag)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for (position, v) in result.verdicts.enumerated() {
                try verdict.execute(arguments: [result.id, position, v.scenario, v.condition.metric.description,
                                                v.condition.rule.rawValue, v.condition.threshold, v.baseline, v.candidate,
                                                v.delta, v.passed, v.explanation, v.condition.source,
                                                v.interval?.lower, v.interval?.upper, v.interval?.level, v.pValue, v.flag])
            }
            if let robustness = result.robustness {
                let score = try db.makeStatement(sql: """
                    INSERT INTO robustness (run_id, reference, corruption, role, score, value) VALUES (?, ?, ?, ?, ?, ?)
                    """)
                for (corruption, role, name, value) in Self.flatten(robustness) {
                    try score.execute(arguments: [result.id, robustness.reference.rawValue, corruption, role.rawValue, name, value])
                }
            }
            let outcome = try db.makeStatement(sql: """
                INSERT INTO outcomes (run_id, scenario, scenario_version, scenario_parameters, role, model_identity,
                    sample_index, sample_id, label, predicted, confidence, correct, latency_ms, probabilities, computed_in)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            let detectionOutcome = try db.makeStatement(sql: """
                INSERT INTO detection_outcomes (run_id, scenario, scenario_version, scenario_parameters, role,
                    model_identity, sample_index, sample_id, detections, true_positives, false_positives, misses,
                    latency_ms, computed_in)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            let box = try db.makeStatement(sql: """
                INSERT INTO detection_boxes (run_id, scenario, role, sample_index, kind, box_index, class_index, class,
                    x, y, width, height, score, status, matched_box)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            let classes = result.goldenSet.classes
            func className(_ index: Int) -> String { index < classes.count ? classes[index] : "\(index)" }
            for scenario in result.scenarios {
                let id = scenario.scenario.id
                for role in ModelRole.allCases {
                    let identity = role == .baseline ? result.baseline.identity : result.candidate.identity
                    let computedIn = role == .baseline ? (scenario.baselineReusedFrom ?? result.id) : result.id
                    switch result.outcomes(scenario.scenario, role) {
                    case .classification(let outcomes)?:
                        for (index, o) in outcomes.enumerated() {
                            try outcome.execute(arguments: [
                                result.id, id, scenario.scenario.implementationVersion, scenario.scenario.parameterKey,
                                role.rawValue, identity, index, o.sampleID, o.label, o.predicted, Double(o.confidence), o.correct,
                                o.latencyMs, Self.blob(o.probabilities), computedIn,
                            ])
                        }
                    case .detection(let outcomes)?:
                        let matches = result.detectionMatches[id]?[role] ?? []
                        for (index, o) in outcomes.enumerated() {
                            let match = index < matches.count ? matches[index] : nil
                            try detectionOutcome.execute(arguments: [
                                result.id, id, scenario.scenario.implementationVersion, scenario.scenario.parameterKey,
                                role.rawValue, identity, index, o.sampleID, o.detections.count, match?.truePositives, match?.falsePositives, match?.misses,
                                o.latencyMs.isNaN ? nil : o.latencyMs, computedIn,
                            ])
                            for (b, d) in o.detections.enumerated() {
                                try box.execute(arguments: [
                                    result.id, id, role.rawValue, index, "detection", b, d.classIndex, className(d.classIndex),
                                    d.box.x, d.box.y, d.box.width, d.box.height, d.score,
                                    match?.statuses[b].rawValue ?? "unmatched", match?.matchedObject[b],
                                ])
                            }
                            guard let match else { continue }
                            let matchedBy = Dictionary(match.matchedObject.enumerated().compactMap { d, object in
                                object.map { ($0, d) }
                            }, uniquingKeysWith: { first, _ in first })
                            for (t, truth) in match.truth.enumerated() {
                                let status = truth.isCrowd ? "crowd" : match.missed[t] ? "missed" : "matched"
                                try box.execute(arguments: [
                                    result.id, id, role.rawValue, index, "truth", t, truth.classIndex, className(truth.classIndex),
                                    truth.box.x, truth.box.y, truth.box.width, truth.box.height, nil, status, matchedBy[t],
                                ])
                            }
                        }
                    case nil:
                        break
                    }
                }
            }
        }
    }

    /// Every metric value of a scenario, per-class metrics once per class.
    static func flatten(_ m: ScenarioMetrics) -> [(MetricKey, Double?)] {
        let (task, classes): (VisionTask, [String]) = switch m {
        case .classification(let c): (.classification, c.perClass.map(\.className))
        case .detection(let d): (.detection, d.perClass.map(\.name))
        }
        var values: [(MetricKey, Double?)] = []
        for metric in Metric.allCases where metric.applies(to: task) {
            if metric.isPerClass {
                for name in classes {
                    let key = MetricKey(metric, className: name)
                    values.append((key, m.value(key)))
                }
            } else {
                values.append((MetricKey(metric), m.value(MetricKey(metric))))
            }
        }
        return values
    }

    // MARK: - Reading

    /// Outcomes for `key` from the most recent complete run that stored them for every sample.
    /// `computed_in` names the run where they were originally computed, so reuse of reuse still
    /// points at the run that actually ran the model.
    public func cachedOutcomes(for key: OutcomeKey) throws -> CachedOutcomes? {
        try read { db in
            for table in ["outcomes", "detection_outcomes"] {
                guard let row = try Row.fetchOne(db, sql: """
                    SELECT o.run_id, o.role FROM \(table) o JOIN runs r ON r.id = o.run_id
                    WHERE r.status = 'complete' AND r.golden_set_identity = ? AND r.seed = ? AND r.batch_size = ?
                      AND o.model_identity = ? AND o.scenario = ? AND o.scenario_version = ? AND o.scenario_parameters = ?
                      AND o.sample_index = 0
                    ORDER BY r.started_at DESC, r.id DESC LIMIT 1
                    """, arguments: [key.goldenSetIdentity, Int64(bitPattern: key.seed), key.batchSize,
                                     key.modelIdentity, key.scenario, key.scenarioVersion, key.scenarioParameters]) else { continue }
                let runID: String = row["run_id"], role: String = row["role"]
                let outcomes = try table == "outcomes"
                    ? Self.classificationOutcomes(db, runID: runID, role: role, scenario: key.scenario)
                    : Self.detectionOutcomes(db, runID: runID, role: role, scenario: key.scenario)
                guard let (origin, stored) = outcomes[key.scenario] else { return nil }
                return CachedOutcomes(runID: origin, outcomes: stored)
            }
            return nil
        }
    }

    /// A run's classification outcomes of one role, per scenario (one scenario, or all), with
    /// the run each scenario's outcomes were computed in.
    static func classificationOutcomes(_ db: Database, runID: String, role: String,
                                       scenario: String? = nil) throws -> [String: (String, ScenarioOutcomes)] {
        let rows = try Row.fetchAll(db, sql: """
            SELECT scenario, sample_id, label, latency_ms, probabilities, computed_in FROM outcomes
            WHERE run_id = ? AND role = ? AND (? IS NULL OR scenario = ?) ORDER BY scenario, sample_index
            """, arguments: [runID, role, scenario, scenario])
        var grouped: [String: (String, [Outcome])] = [:]
        for row in rows {
            let name: String = row["scenario"]
            grouped[name, default: (row["computed_in"], [])].1.append(Self.outcome(row))
        }
        return grouped.mapValues { ($0.0, .classification($0.1)) }
    }

    /// A run's detection outcomes of one role, per scenario, read back from its boxes.
    static func detectionOutcomes(_ db: Database, runID: String, role: String,
                                  scenario: String? = nil) throws -> [String: (String, ScenarioOutcomes)] {
        let images = try Row.fetchAll(db, sql: """
            SELECT scenario, sample_index, sample_id, latency_ms, computed_in FROM detection_outcomes
            WHERE run_id = ? AND role = ? AND (? IS NULL OR scenario = ?) ORDER BY scenario, sample_index
            """, arguments: [runID, role, scenario, scenario])
        let boxes = try Row.fetchAll(db, sql: """
            SELECT scenario, sample_index, class_index, x, y, width, height, score FROM detection_boxes
            WHERE run_id = ? AND role = ? AND kind = 'detection' AND (? IS NULL OR scenario = ?)
            ORDER BY scenario, sample_index, box_index
            """, arguments: [runID, role, scenario, scenario])
        var detections: [String: [Int: [Detection]]] = [:]
        for row in boxes {
            let box = Box(x: row["x"], y: row["y"], width: row["width"], height: row["height"])
            detections[row["scenario"], default: [:]][row["sample_index"], default: []]
                .append(Detection(classIndex: row["class_index"], box: box, score: row["score"]))
        }
        var grouped: [String: (String, [DetectionOutcome])] = [:]
        for row in images {
            let name: String = row["scenario"], index: Int = row["sample_index"]
            let latency: Double? = row["latency_ms"]
            grouped[name, default: (row["computed_in"], [])].1.append(DetectionOutcome(
                sampleID: row["sample_id"], detections: detections[name]?[index] ?? [], latencyMs: latency ?? .nan))
        }
        return grouped.mapValues { ($0.0, .detection($0.1)) }
    }

    /// Per scenario of a run's `role`, the implementation version and parameters its outcomes
    /// were computed with.
    static func scenarioComputations(_ db: Database, runID: String, role: String) throws -> [String: ScenarioComputation] {
        var computations: [String: ScenarioComputation] = [:]
        for table in ["outcomes", "detection_outcomes"] {
            for row in try Row.fetchAll(db, sql: """
                SELECT DISTINCT scenario, scenario_version, scenario_parameters FROM \(table) WHERE run_id = ? AND role = ?
                """, arguments: [runID, role]) {
                computations[row["scenario"]] = ScenarioComputation(version: row["scenario_version"], parameters: row["scenario_parameters"])
            }
        }
        return computations
    }

    /// The outcomes of `role` in a complete run, as a baseline for `vigil run --baseline`.
    public func storedBaseline(runID: String, role: ModelRole = .candidate) throws -> StoredBaseline {
        try read { db in
            guard let run = try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [runID]) else {
                throw InputError("\(self.path): no run '\(runID)' (see `vigil history`)")
            }
            let status: String = run["status"]
            guard status == "complete" else {
                throw InputError("run \(runID) is \(status); only a complete run can serve as the baseline")
            }
            let prefix = role.rawValue
            let outcomes = try Self.classificationOutcomes(db, runID: runID, role: prefix)
                .merging(try Self.detectionOutcomes(db, runID: runID, role: prefix)) { first, _ in first }
                .mapValues(\.1)
            // The spec path, footprint and input section are only in the stored result; the run
            // row has the model's identity.
            var model = ModelInfo(name: run["\(prefix)_name"], spec: "", sha256: run["\(prefix)_sha256"],
                                  identity: run["\(prefix)_identity"])
            if let json: String = run["result_json"],
               let result = try? JSONDecoder.vigil.decode(RunResult.self, from: Data(json.utf8)) {
                let stored = role == .baseline ? result.baseline : result.candidate
                model.spec = stored.spec
                model.footprint = stored.footprint
                model.input = stored.input
            }
            return StoredBaseline(
                runID: runID,
                model: model,
                goldenSetIdentity: run["golden_set_identity"],
                seed: UInt64(bitPattern: run["seed"]),
                outcomes: outcomes,
                scenarioComputations: try Self.scenarioComputations(db, runID: runID, role: prefix))
        }
    }

    /// The full id of a run given its id or a unique prefix of it.
    public func resolveRunID(_ reference: String) throws -> String {
        try read { db in
            if try String.fetchOne(db, sql: "SELECT id FROM runs WHERE id = ?", arguments: [reference]) != nil {
                return reference
            }
            let escaped = reference.replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
            let matches = try String.fetchAll(db, sql: "SELECT id FROM runs WHERE id LIKE ? ESCAPE '\\' ORDER BY id LIMIT 3",
                                              arguments: [escaped + "%"])
            switch matches.count {
            case 1: return matches[0]
            case 0: throw InputError("\(self.path): no run '\(reference)' (see `vigil history`)")
            default: throw InputError("\(self.path): '\(reference)' matches several runs (\(matches.joined(separator: ", "))…); give more of the id")
            }
        }
    }

    /// A stored run's summary, for `vigil history`.
    public struct RunSummary: Sendable, Codable {
        public var id: String
        public var startedAt: String
        public var finishedAt: String?
        public var status: String
        public var passed: Bool?
        public var suite: String
        public var goldenSet: String
        public var baseline: String
        public var candidate: String
        public var gitCommit: String?
        public var error: String?
        /// The suite's primary metric on `clean` (else the first scenario), for both models.
        public var primaryMetric: String?
        public var scenario: String?
        public var baselineValue: Double?
        public var candidateValue: Double?
        /// The run's sign-offs, oldest first.
        public var signOffs: [SignOff]

        enum CodingKeys: String, CodingKey {
            case id, startedAt = "started_at", finishedAt = "finished_at", status, passed, suite, goldenSet = "golden_set",
                 baseline, candidate, gitCommit = "git_commit", error, primaryMetric = "primary_metric", scenario,
                 baselineValue = "baseline_value", candidateValue = "candidate_value", signOffs = "sign_offs"
        }
    }

    /// Runs, newest first; only those of the suite named `suite` when given.
    public func runs(limit: Int = 20, suite: String? = nil) throws -> [RunSummary] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM runs WHERE ? IS NULL OR suite_name = ? ORDER BY started_at DESC, id DESC LIMIT ?
                """, arguments: [suite, suite, limit]).map { row in
                var summary = RunSummary(
                    id: row["id"], startedAt: row["started_at"], finishedAt: row["finished_at"],
                    status: row["status"], passed: row["passed"], suite: row["suite_name"],
                    goldenSet: "\(row["golden_set_name"] as String) \(row["golden_set_version"] as String)",
                    baseline: row["baseline_name"], candidate: row["candidate_name"],
                    gitCommit: row["git_commit"], error: row["error"], signOffs: try Self.signOffs(db, runID: row["id"]).map(\.record))
                if let result = try? self.result(db, runID: summary.id),
                   let scenario = result.scenarios.first(where: { $0.scenario.isClean }) ?? result.scenarios.first {
                    summary.primaryMetric = result.primaryMetric.description
                    summary.scenario = scenario.scenario.id
                    summary.baselineValue = scenario.baseline.value(result.primaryMetric)
                    summary.candidateValue = scenario.candidate.value(result.primaryMetric)
                }
                return summary
            }
        }
    }

    /// `metric` (the anchor run's primary metric when nil) on each scenario of the suite named
    /// `suite`, over its last `limit` complete runs up to and including `runID` (the suite's
    /// newest complete run when nil), oldest first. The scenarios are the anchor run's.
    public func trend(suite: String, through runID: String? = nil, metric: MetricKey? = nil,
                      limit: Int = Trend.defaultRuns) throws -> Trend {
        try read { db in
            let anchor = try Row.fetchOne(db, sql: """
                SELECT id, started_at FROM runs WHERE suite_name = ? AND status = 'complete' AND (? IS NULL OR id = ?)
                ORDER BY started_at DESC, id DESC LIMIT 1
                """, arguments: [suite, runID, runID])
            guard let anchor else {
                if let runID { throw InputError("\(self.path): run \(runID) is not a complete run of suite '\(suite)'") }
                let suites = try String.fetchAll(db, sql: "SELECT DISTINCT suite_name FROM runs WHERE status = 'complete' ORDER BY suite_name")
                throw InputError("\(self.path): no complete runs of suite '\(suite)'"
                                 + (suites.isEmpty ? " (the store has no complete runs)" : " (suites with runs: \(suites.joined(separator: ", ")))"))
            }
            let anchorID: String = anchor["id"], anchorStart: String = anchor["started_at"]
            guard let result = try self.result(db, runID: anchorID) else {
                throw InputError("\(self.path): run \(anchorID) has no stored result")
            }
            let metric = metric ?? result.primaryMetric
            let rows = try Row.fetchAll(db, sql: """
                SELECT id, started_at, passed, baseline_name, candidate_name FROM runs
                WHERE suite_name = ? AND status = 'complete' AND (started_at < ? OR (started_at = ? AND id <= ?))
                ORDER BY started_at DESC, id DESC LIMIT ?
                """, arguments: [suite, anchorStart, anchorStart, anchorID, max(1, limit)])
            let runs = try rows.reversed().map { row in
                let id: String = row["id"]
                var values: [String: Trend.Values] = [:]
                for value in try Row.fetchAll(db, sql: """
                    SELECT scenario, role, value FROM scenario_metrics WHERE run_id = ? AND metric = ? AND class = ?
                    """, arguments: [id, metric.metric.rawValue, metric.className ?? ""]) {
                    let scenario: String = value["scenario"], role: String = value["role"], number: Double? = value["value"]
                    var pair = values[scenario] ?? Trend.Values(baseline: nil, candidate: nil)
                    if role == ModelRole.baseline.rawValue { pair.baseline = number } else { pair.candidate = number }
                    values[scenario] = pair
                }
                return Trend.Run(id: id, startedAt: row["started_at"], passed: row["passed"], baseline: row["baseline_name"],
                                 candidate: row["candidate_name"], values: values)
            }
            return Trend(suite: suite, metric: metric, scenarios: result.scenarios.map(\.scenario.id), runs: runs)
        }
    }

    /// A stored run as reporters see it (`vigil show`): its result, sign-offs and report path.
    /// Runs that did not complete have no result, and are refused with their status and error.
    public func storedRun(_ runID: String) throws -> ReportedRun {
        try read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT status, error, report_path FROM runs WHERE id = ?", arguments: [runID]) else {
                throw InputError("\(self.path): no run '\(runID)' (see `vigil history`)")
            }
            let status: String = row["status"]
            guard status == "complete", let result = try self.result(db, runID: runID) else {
                let error: String? = row["error"]
                throw InputError("run \(runID) is \(status)\(error.map { ": \($0)" } ?? " (it was interrupted)"); only a complete run has results to show")
            }
            return ReportedRun(result: result, signOffs: try Self.signOffs(db, runID: runID).map(\.record),
                               reportPath: row["report_path"], storePath: self.path)
        }
    }

    /// A complete run as its HTML report needs it from the store: `storedRun` with both models'
    /// per-sample outcomes and the suite's trend through it. The golden set's images and the
    /// detection matching come from the golden set (`GoldenSet.loadVerified(for:)`,
    /// `RunResult.matchDetections(goldenSet:)`).
    public func restoredRun(_ runID: String) throws -> ReportedRun {
        var run = try storedRun(runID)
        try read { db in
            for role in ModelRole.allCases {
                let stored = try Self.classificationOutcomes(db, runID: runID, role: role.rawValue)
                    .merging(try Self.detectionOutcomes(db, runID: runID, role: role.rawValue)) { first, _ in first }
                for (scenario, (_, outcomes)) in stored { run.result.outcomes[scenario, default: [:]][role] = outcomes }
            }
            // Results stored before they kept the suite's `params:` read back with the defaults;
            // the outcomes' rows say which parameters the images were really made with.
            let computations = try Self.scenarioComputations(db, runID: runID, role: ModelRole.candidate.rawValue)
            for scenario in run.result.scenarios.map(\.scenario) {
                if let stored = computations[scenario.id]?.parameters, stored != scenario.parameterKey {
                    throw InputError("run \(runID) made scenario \(scenario.id) with the suite's parameters \(stored), which its stored result "
                                     + "does not hold (it was stored by an older Vigil); its images cannot be drawn again")
                }
            }
        }
        run.trend = try trend(suite: run.result.suite.name, through: runID, metric: run.result.primaryMetric)
        return run
    }

    /// A complete run's stored result (metrics and verdicts; outcomes are in the outcomes table).
    public func result(runID: String) throws -> RunResult? {
        try read { db in try result(db, runID: runID) }
    }

    func result(_ db: Database, runID: String) throws -> RunResult? {
        guard let json = try String.fetchOne(db, sql: "SELECT result_json FROM runs WHERE id = ? AND status = 'complete'",
                                             arguments: [runID]) else { return nil }
        return try JSONDecoder.vigil.decode(RunResult.self, from: Data(json.utf8))
    }

    // MARK: - Encoding

    static func outcome(_ row: Row) -> Outcome {
        Outcome(sampleID: row["sample_id"], label: row["label"], probabilities: floats(row["probabilities"]),
                latencyMs: row["latency_ms"])
    }

    /// Probabilities as little-endian float32, 4 bytes per class
    /// (`numpy.frombuffer(blob, dtype='<f4')` reads them back).
    static func blob(_ values: [Float]) -> Data {
        var data = Data(capacity: values.count * 4)
        for value in values {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
        }
        return data
    }

    static func floats(_ data: Data) -> [Float] {
        stride(from: 0, to: data.count - 3, by: 4).map { offset in
            let bits = data[data.startIndex + offset..<data.startIndex + offset + 4].enumerated().reduce(UInt32(0)) {
                $0 | UInt32($1.element) << (8 * UInt32($1.offset))
            }
            return Float(bitPattern: bits)
        }
    }

    /// ISO 8601 in UTC with milliseconds, so runs started within one second still sort by time.
    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try queue.write(body)
        } catch let error as DatabaseError {
            throw Self.problem(error, path: path, doing: "cannot write the run store")
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try queue.read(body)
        } catch let error as DatabaseError {
            throw Self.problem(error, path: path, doing: "cannot read the run store")
        }
    }
}

/// True once: the first `claim()` wins (a class, so the busy handler's calls share it).
private final class FirstTime: Sendable {
    private let claimed = Atomic<Bool>(false)

    func claim() -> Bool { !claimed.exchange(true, ordering: .relaxed) }
}

extension JSONDecoder {
    /// Decodes what `RunResult.jsonEncoder()` writes, and results stored before the key convention.
    static var vigil: JSONDecoder { JSONConvention.decoder() }
}
