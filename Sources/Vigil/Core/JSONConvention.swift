import Foundation

/// Every JSON document Vigil writes uses one key convention: snake_case (`started_at`,
/// `golden_set`, `baseline_reused_from`), the same as its metric names (`latency_p95_ms`), with
/// keys sorted and ISO 8601 dates in UTC with milliseconds. Types spell their keys out in
/// `CodingKeys`, so no encoder strategy renames anything: a key in the output is exactly the one
/// in the source.
public enum JSONConvention {
    /// The encoder for every JSON output: pretty-printed, keys sorted, ISO 8601 dates with
    /// milliseconds (a stored run's duration reads back as it was measured).
    public static func encoder(pretty: Bool = true) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(timestampFormatter(fractional: true).string(from: date))
        }
        return encoder
    }

    /// A date as Vigil writes it: whole milliseconds, so what a run holds in memory and what it
    /// stores are the same instant.
    public static func storable(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded(.down) / 1000)
    }

    private static func timestampFormatter(fractional: Bool) -> ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = fractional ? [.withInternetDateTime, .withFractionalSeconds] : [.withInternetDateTime]
        return formatter
    }

    /// Reads what `encoder()` writes, and results stored by Vigil before the convention
    /// (camelCase run-level keys in `runs.result_json`, dates in whole seconds), whose keys it
    /// renames on the way in.
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = timestampFormatter(fractional: true).date(from: text) ?? timestampFormatter(fractional: false).date(from: text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not an ISO 8601 date")
            }
            return date
        }
        decoder.keyDecodingStrategy = .custom { path in
            let key = path.last!
            guard let renamed = legacyKeys[key.stringValue] else { return key }
            return PlainKey(renamed)
        }
        return decoder
    }

    /// The camelCase keys stored results had before the convention, and their names now. The
    /// list is closed: results written since use the new names only.
    static let legacyKeys: [String: String] = [
        "startedAt": "started_at", "finishedAt": "finished_at", "goldenSet": "golden_set", "batchSize": "batch_size",
        "primaryMetric": "primary_metric", "reportedMetrics": "reported_metrics", "operatingPoint": "operating_point",
        "baselineScoreThreshold": "baseline_score_threshold", "candidateScoreThreshold": "candidate_score_threshold",
        "baselineReusedFrom": "baseline_reused_from", "vigilVersion": "vigil_version", "opencvVersion": "opencv_version",
        "gitCommit": "git_commit", "opencvThreads": "opencv_threads", "sizeMB": "size_mb", "memoryMB": "memory_mb",
        "weightsMB": "weights_mb", "blobsMB": "blobs_mb", "sizeNote": "size_note", "memoryNote": "memory_note",
        "relativeCE": "relative_ce", "mCE": "mce", "relativeMCE": "relative_mce", "mPC": "mpc", "rPC": "rpc",
        "mCECount": "mce_count", "relativeMCECount": "relative_mce_count", "mPCCount": "mpc_count", "className": "class",
    ]

    struct PlainKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
