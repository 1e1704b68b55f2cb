import Foundation

/// What is done to a detector's boxes before they are scored, the same for baseline and
/// candidate because it lives in the shared backend:
/// 1. boxes scoring below `min_score` are dropped;
/// 2. class-wise non-maximum suppression: within a class, in descending score order, a box is
///    dropped when its IoU with a kept box exceeds `nms_iou` (continuous coordinates, no "+1");
/// 3. at most `max_detections` boxes per image are kept, highest scores first.
///
/// ```yaml
/// postprocess: {min_score: 0.01, nms_iou: 0.45, max_detections: 100}
/// ```
/// Defaults: ONNX detectors `min_score` 0.01, `nms_iou` 0.45, `max_detections` 100; cascades
/// and predictions files no NMS (they arrive grouped) and no score floor, `max_detections`
/// unlimited.
public struct DetectionPostprocessing: Sendable, Hashable, Codable {
    public var minScore: Double?
    public var nmsIoU: Double?
    public var maxDetections: Int?

    public init(minScore: Double? = nil, nmsIoU: Double? = nil, maxDetections: Int? = nil) {
        self.minScore = minScore
        self.nmsIoU = nmsIoU
        self.maxDetections = maxDetections
    }

    var key: String { "\(minScore.map { "\($0)" } ?? "-"),\(nmsIoU.map { "\($0)" } ?? "-"),\(maxDetections.map { "\($0)" } ?? "-")" }

    /// What networks that output raw candidate boxes get unless their spec says otherwise.
    public static let networkDefaults = DetectionPostprocessing(minScore: 0.01, nmsIoU: 0.45, maxDetections: 100)

    /// Reads the `postprocess` key of a detector's spec over `defaults`; refuses it for classifiers.
    static func parse(_ section: ModelSpecSection, defaults: DetectionPostprocessing) throws -> DetectionPostprocessing? {
        guard section.task == .detection else {
            try section.refuse("postprocess", "is for detectors")
            return nil
        }
        var result = defaults
        guard let value = section.mapping["postprocess"] else { return result }
        let m = try value.mapping("postprocess", allowed: ["min_score", "nms_iou", "max_detections"])
        if let v = m["min_score"] { result.minScore = try v.double("min_score") }
        if let v = m["nms_iou"] {
            let iou = try v.double("nms_iou")
            guard iou > 0, iou <= 1 else { throw v.error("nms_iou must be in (0, 1], e.g. 0.45") }
            result.nmsIoU = iou
        }
        if let v = m["max_detections"] { result.maxDetections = try v.int("max_detections", in: 1...100_000) }
        return result
    }
}
