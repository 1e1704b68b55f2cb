import CSV
import Foundation
import GRDB
import Vigil

/// A stored run's per-sample outcomes as a flat file, one row per sample × scenario × model
/// (`vigil export`), for pandas, a spreadsheet or a notebook. Columns are documented in
/// SCHEMA.md ("Exported outcomes"); CSV and JSON Lines carry the same ones.
public enum OutcomeExport {
    public enum Format: String, Sendable, CaseIterable {
        case csv, jsonl
    }

    /// Columns of a classification run, in CSV order.
    public static let classificationColumns = [
        "run_id", "scenario", "role", "model", "sample_index", "sample_id", "label", "predicted", "confidence", "correct",
        "latency_ms", "computed_in", "probabilities",
    ]

    /// Columns of a detection run, in CSV order.
    public static let detectionColumns = [
        "run_id", "scenario", "role", "model", "sample_index", "sample_id", "detections", "true_positives", "false_positives",
        "misses", "latency_ms", "computed_in",
    ]

    /// One cell: CSV writes it as text, JSON Lines as its JSON type.
    enum Cell: Encodable {
        case text(String), integer(Int), real(Double?), single(Float), flag(Bool), singles([Float])

        var csv: String {
            switch self {
            case .text(let s): s
            case .integer(let i): "\(i)"
            case .real(let d): d.map { "\($0)" } ?? ""
            case .single(let f): "\(f)"
            case .flag(let b): b ? "1" : "0"
            // A JSON array in one cell: numbers in the golden set's class order.
            case .singles(let fs): "[" + fs.map { "\($0)" }.joined(separator: ",") + "]"
            }
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .text(let s): try c.encode(s)
            case .integer(let i): try c.encode(i)
            case .real(let d): if let d { try c.encode(d) } else { try c.encodeNil() }
            case .single(let f): try c.encode(f)
            case .flag(let b): try c.encode(b)
            case .singles(let fs): try c.encode(fs)
            }
        }
    }
}

extension RunStore {
    /// Writes run `runID`'s outcomes to `url` in `format`, scenarios in the run's order, then
    /// baseline before candidate, samples in manifest order. Returns the rows written.
    @discardableResult
    public func exportOutcomes(runID: String, format: OutcomeExport.Format, to url: URL) throws -> Int {
        let run = try storedRun(runID).result
        let detection = run.goldenSet.task == .detection
        let columns = detection ? OutcomeExport.detectionColumns : OutcomeExport.classificationColumns
        guard let stream = OutputStream(url: url, append: false) else {
            throw InputError("\(url.path): cannot write the export")
        }
        stream.open()
        defer { stream.close() }
        let csv = format == .csv ? try CSVWriter(stream: stream) : nil
        let encoder = JSONConvention.encoder(pretty: false)
        var written = 0
        func put(_ bytes: Data) throws {
            let count = bytes.withUnsafeBytes { stream.write($0.bindMemory(to: UInt8.self).baseAddress!, maxLength: bytes.count) }
            guard count == bytes.count else {
                throw InputError("\(url.path): cannot write the export (\(stream.streamError.map { "\($0)" } ?? "the disk may be full"))")
            }
        }
        func emit(_ cells: [OutcomeExport.Cell]) throws {
            if let csv {
                try csv.write(row: cells.map(\.csv))
            } else {
                try put(try encoder.encode(Dictionary(uniqueKeysWithValues: zip(columns, cells))) + [0x0A])
            }
            written += 1
        }
        try csv?.write(row: columns)
        let classes = run.goldenSet.classes
        func className(_ index: Int) -> String { classes.indices.contains(index) ? classes[index] : "\(index)" }
        try read { db in
            for scenario in run.scenarios.map(\.scenario.id) {
                for role in ModelRole.allCases {
                    let model = role == .baseline ? run.baseline.name : run.candidate.name
                    let common: (Row) -> [OutcomeExport.Cell] = { row in
                        [.text(runID), .text(scenario), .text(role.rawValue), .text(model), .integer(row["sample_index"]), .text(row["sample_id"])]
                    }
                    if detection {
                        let rows = try Row.fetchCursor(db, sql: """
                            SELECT sample_index, sample_id, detections, true_positives, false_positives, misses, latency_ms, computed_in
                            FROM detection_outcomes WHERE run_id = ? AND scenario = ? AND role = ? ORDER BY sample_index
                            """, arguments: [runID, scenario, role.rawValue])
                        while let row = try rows.next() {
                            try emit(common(row) + [.integer(row["detections"]), .integer(row["true_positives"]),
                                                    .integer(row["false_positives"]), .integer(row["misses"]),
                                                    .real(row["latency_ms"]), .text(row["computed_in"])])
                        }
                    } else {
                        let rows = try Row.fetchCursor(db, sql: """
                            SELECT sample_index, sample_id, label, predicted, confidence, correct, latency_ms, computed_in, probabilities
                            FROM outcomes WHERE run_id = ? AND scenario = ? AND role = ? ORDER BY sample_index
                            """, arguments: [runID, scenario, role.rawValue])
                        while let row = try rows.next() {
                            let latency: Double? = row["latency_ms"]
                            try emit(common(row) + [.text(className(row["label"])), .text(className(row["predicted"])),
                                                    .single(Float(row["confidence"] as Double)), .flag(row["correct"]),
                                                    .real(latency.flatMap { $0.isNaN ? nil : $0 }), .text(row["computed_in"]),
                                                    .singles(Self.floats(row["probabilities"]))])
                        }
                    }
                }
            }
        }
        // The CSV writer starts each row after the first with a line break; end the last one.
        if csv != nil { try put(Data([0x0A])) }
        return written
    }
}
