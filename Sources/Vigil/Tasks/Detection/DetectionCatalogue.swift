/// Object detection's metrics (definitions: METRICS.md, "Detection (COCO)"): mean AP over
/// categories at IoU .50:.95, .50 and .75, AR with 100 detections, per category AP and AP50 and
/// the image-level false positive rate, false positives per image at the operating point; and,
/// shared with classification, per-class precision, recall and FNR at the operating point,
/// latency and the model's footprint.
extension Metric {
    public static let map = Metric("map", higherIsBetter: true, unit: .share)
    public static let map50 = Metric("map50", higherIsBetter: true, unit: .share)
    public static let map75 = Metric("map75", higherIsBetter: true, unit: .share)
    public static let ar100 = Metric("ar100", higherIsBetter: true, unit: .share)
    public static let ap = Metric("ap", perClass: true, higherIsBetter: true, unit: .share)
    public static let ap50 = Metric("ap50", perClass: true, higherIsBetter: true, unit: .share)
    public static let imageFPR = Metric("image_fpr", perClass: true, higherIsBetter: false, unit: .share)
    public static let fpPerImage = Metric("fp_per_image", higherIsBetter: false, unit: .number)
}

extension MetricCatalogue {
    /// mAP and mAP50 resample from weighted precision–recall curves, the operating-point
    /// metrics from per-image counts; mAP75, AR, per-class AP, latency and footprint do not.
    public static let detection = MetricCatalogue(
        task: .detection,
        metrics: [.precision, .recall, .fnr, .latencyP50, .latencyP95, .throughput, .modelSizeMB, .modelMemoryMB,
                  .map, .map50, .map75, .ar100, .ap, .ap50, .imageFPR, .fpPerImage],
        resampleable: [.map, .map50, .precision, .recall, .fnr, .imageFPR, .fpPerImage])
}
