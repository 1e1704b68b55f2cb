import Foundation

/// One detected object: a box in the image's pixels, a class index (order of the model's
/// `classes`) and a score (higher is more confident; its scale depends on the model).
public struct Detection: Sendable, Hashable, Codable {
    public var classIndex: Int
    public var box: Box
    public var score: Double

    public init(classIndex: Int, box: Box, score: Double) {
        self.classIndex = classIndex
        self.box = box
        self.score = score
    }

    enum CodingKeys: String, CodingKey { case classIndex = "class", box, score }
}

/// How the outputs of a detection network become boxes. Decoders for the layouts people
/// export, chosen by `decoder` in the model spec's `output` section:
///
/// | decoder | outputs | rows | box | score |
/// |---|---|---|---|---|
/// | `yolox` | one, N × (4 + 1 + C) | one per grid cell, strides in order, cells row by row | centre = (out[0:2] + cell) · stride, size = exp(out[2:4]) · stride | objectness · class score |
/// | `yolov5` | one, N × (4 + 1 + C) | one per anchor box, decoded | cx, cy, w, h in input pixels | objectness · class score |
/// | `yolov8` | one, (4 + C) × N (transposed) | decoded | cx, cy, w, h in input pixels | class score |
/// | `boxes-scores` | two, N × 4 boxes and N × C scores (SSD-like) | one per prior, decoded | `box_format`, in pixels or `normalized_boxes` (0–1 of the input) | class score |
///
/// Scores are taken as they come out of the graph (exporters usually include the sigmoid or
/// softmax). Per row, each class whose score is at least the post-processing `min_score`
/// becomes a detection, so class-wise NMS can run per class. Boxes are then mapped from the
/// network's input back to the original image through the preprocessing (letterbox scale and
/// padding) and clipped to the image.
///
/// ```yaml
/// output:
///   kind: detections
///   decoder: yolox          # yolox | yolov5 | yolov8 | boxes-scores
///   strides: [8, 16, 32]    # yolox only (default [8, 16, 32])
///   objectness: true        # override the decoder's default
///   box_format: cxcywh      # cxcywh | xyxy (override)
///   normalized_boxes: false # boxes-scores: coordinates are 0–1 of the input size
///   background_class: false # boxes-scores: the first score column is "background"
/// ```
public struct DetectionDecoding: Sendable, Hashable, Codable {
    public enum Decoder: String, Sendable, Codable, CaseIterable {
        case yolox, yolov5, yolov8
        case boxesScores = "boxes-scores"
    }
    public enum BoxFormat: String, Sendable, Codable, CaseIterable { case cxcywh, xyxy }

    public var decoder: Decoder
    public var strides: [Int]
    public var objectness: Bool
    public var boxFormat: BoxFormat
    public var normalizedBoxes: Bool
    public var backgroundClass: Bool

    static let keys = ["decoder", "strides", "objectness", "box_format", "normalized_boxes", "background_class"]

    var key: String {
        "\(decoder.rawValue),\(strides),\(objectness),\(boxFormat.rawValue),\(normalizedBoxes),\(backgroundClass)"
    }

    public init(decoder: Decoder, strides: [Int] = [8, 16, 32], objectness: Bool? = nil, boxFormat: BoxFormat = .cxcywh,
                normalizedBoxes: Bool = false, backgroundClass: Bool = false) {
        self.decoder = decoder
        self.strides = decoder == .yolox ? strides : []
        self.objectness = objectness ?? (decoder == .yolox || decoder == .yolov5)
        self.boxFormat = boxFormat
        self.normalizedBoxes = normalizedBoxes
        self.backgroundClass = backgroundClass
    }

    static func parse(_ output: YAMLMapping, classes: Int) throws -> DetectionDecoding {
        let decoderValue = try output.required("decoder")
        let decoder = Decoder(rawValue: try decoderValue.choice("decoder", from: Decoder.allCases.map(\.rawValue)))!
        func flag(_ key: String) throws -> Bool? {
            guard let value = output[key] else { return nil }
            guard let bool = value.node.bool else { throw value.error("\(key) must be true or false") }
            return bool
        }
        var strides = [8, 16, 32]
        if let value = output["strides"] {
            guard decoder == .yolox else { throw value.error("'strides' goes with decoder yolox (the others output decoded boxes)") }
            strides = try value.sequence("strides").map { try $0.int("each stride", in: 1...1024) }
            guard !strides.isEmpty else { throw value.error("strides is empty") }
        }
        for key in ["normalized_boxes", "background_class"] where output[key] != nil && decoder != .boxesScores {
            throw output[key]!.error("'\(key)' goes with decoder boxes-scores")
        }
        let boxFormat = try output["box_format"].map {
            BoxFormat(rawValue: try $0.choice("box_format", from: BoxFormat.allCases.map(\.rawValue)))!
        } ?? (decoder == .boxesScores ? .xyxy : .cxcywh)
        if decoder == .yolox && boxFormat != .cxcywh {
            throw output["box_format"]!.error("decoder yolox decodes centre and size from the grid; box_format must be cxcywh")
        }
        if let objectness = output["objectness"], decoder == .boxesScores {
            throw objectness.error("'objectness' does not apply to decoder boxes-scores")
        }
        return DetectionDecoding(decoder: decoder, strides: strides, objectness: try flag("objectness"), boxFormat: boxFormat,
                                 normalizedBoxes: try flag("normalized_boxes") ?? false,
                                 backgroundClass: try flag("background_class") ?? false)
    }

    /// One output tensor of one image: its shape without the batch dimension, and its values.
    public struct Tensor {
        public var shape: [Int]
        public var values: ArraySlice<Float>

        public init(shape: [Int], values: ArraySlice<Float>) {
            self.shape = shape
            self.values = values
        }
    }

    /// Columns per row of the single-output layouts.
    func rowWidth(classes: Int) -> Int { 4 + (objectness ? 1 : 0) + classes }

    /// Checks the network's output shapes (without the batch dimension) against this decoder;
    /// the error says both what the model gives and what the decoder expects.
    public func check(shapes: [[Int]], classes: Int, inputWidth: Int, inputHeight: Int) throws {
        func text(_ shape: [Int]) -> String { shape.map(String.init).joined(separator: "×") }
        let given = shapes.map(text).joined(separator: " and ")
        let outputs = shapes.count == 1 ? "output \(given)" : "\(shapes.count) outputs \(given)"
        switch decoder {
        case .yolox, .yolov5, .yolov8:
            let width = rowWidth(classes: classes)
            let parts = "4 box values\(objectness ? " + 1 objectness" : "") + \(classes) class score\(classes == 1 ? "" : "s")"
            guard shapes.count == 1, shapes[0].count == 2 else {
                throw InputError("the model has \(outputs); decoder \(decoder.rawValue) expects one output of "
                                 + (decoder == .yolov8 ? "\(width)×N" : "N×\(width)") + " (\(parts))")
            }
            let shape = shapes[0]
            let columns = decoder == .yolov8 ? shape[0] : shape[1]
            let rows = decoder == .yolov8 ? shape[1] : shape[0]
            guard columns == width else {
                throw InputError("the model's output is \(text(shape)); decoder \(decoder.rawValue) with \(classes) class\(classes == 1 ? "" : "es") expects "
                                 + (decoder == .yolov8 ? "\(width)×N" : "N×\(width)") + " (\(parts))")
            }
            if decoder == .yolox {
                let cells = strides.reduce(0) { $0 + (inputWidth / $1) * (inputHeight / $1) }
                guard rows == cells else {
                    throw InputError("the model's output has \(rows) rows, but a \(inputWidth)×\(inputHeight) input with strides "
                                     + "\(strides.map(String.init).joined(separator: ", ")) has \(cells) grid cells; check the input size and strides")
                }
            }
        case .boxesScores:
            let scoreColumns = classes + (backgroundClass ? 1 : 0)
            guard shapes.allSatisfy({ $0.count == 2 }), let boxes = Self.boxesIndex(shapes),
                  shapes[1 - boxes][1] == scoreColumns, shapes[1 - boxes][0] == shapes[boxes][0] else {
                throw InputError("the model has \(outputs); decoder boxes-scores expects two outputs, N×4 boxes and N×\(scoreColumns) scores "
                                 + "(\(classes) class\(classes == 1 ? "" : "es")\(backgroundClass ? " + background" : ""))")
            }
        }
    }

    /// Which of two outputs holds the boxes: the one with 4 columns; the first in graph order
    /// when both have 4 (three classes and a background column, or four classes).
    static func boxesIndex(_ shapes: [[Int]]) -> Int? {
        guard shapes.count == 2, shapes.allSatisfy({ $0.count == 2 }) else { return nil }
        return shapes[0][1] == 4 ? 0 : shapes[1][1] == 4 ? 1 : nil
    }

    /// Decodes one image's outputs into boxes in the network input's pixels, with every class
    /// score of at least `minScore`.
    public func decode(_ outputs: [Tensor], classes: Int, inputWidth: Int, inputHeight: Int, minScore: Double) -> [Detection] {
        var detections: [Detection] = []
        func box(_ a: Double, _ b: Double, _ c: Double, _ d: Double) -> Box {
            switch boxFormat {
            case .cxcywh: Box(x: a - c / 2, y: b - d / 2, width: c, height: d)
            case .xyxy: Box(x: a, y: b, width: c - a, height: d - b)
            }
        }
        func emit(_ makeBox: () -> Box, objectness: Double, scores: (Int) -> Double) {
            var made: Box?
            for k in 0..<classes {
                let score = objectness * scores(k)
                guard score >= minScore, score.isFinite else { continue }
                if made == nil { made = makeBox() }
                detections.append(Detection(classIndex: k, box: made!, score: score))
            }
        }
        switch decoder {
        case .yolox, .yolov5:
            let v = outputs[0].values, width = rowWidth(classes: classes), base = v.startIndex
            let rows = outputs[0].shape[0]
            var cells: [(x: Int, y: Int, stride: Int)] = []
            if decoder == .yolox {
                cells.reserveCapacity(rows)
                for stride in strides {
                    let w = inputWidth / stride, h = inputHeight / stride
                    for y in 0..<h { for x in 0..<w { cells.append((x, y, stride)) } }
                }
            }
            for r in 0..<rows {
                let o = base + r * width
                let objectness = self.objectness ? Double(v[o + 4]) : 1
                let first = o + 4 + (self.objectness ? 1 : 0)
                emit({
                    if decoder == .yolox {
                        let cell = cells[r], s = Double(cell.stride)
                        let cx = (Double(v[o]) + Double(cell.x)) * s, cy = (Double(v[o + 1]) + Double(cell.y)) * s
                        let w = Foundation.exp(Double(v[o + 2])) * s, h = Foundation.exp(Double(v[o + 3])) * s
                        return Box(x: cx - w / 2, y: cy - h / 2, width: w, height: h)
                    }
                    return box(Double(v[o]), Double(v[o + 1]), Double(v[o + 2]), Double(v[o + 3]))
                }, objectness: objectness, scores: { Double(v[first + $0]) })
            }
        case .yolov8:
            let v = outputs[0].values, base = v.startIndex, n = outputs[0].shape[1]
            let objectness = self.objectness
            for r in 0..<n {
                func at(_ row: Int) -> Double { Double(v[base + row * n + r]) }
                emit({ box(at(0), at(1), at(2), at(3)) }, objectness: objectness ? at(4) : 1,
                     scores: { at(4 + (objectness ? 1 : 0) + $0) })
            }
        case .boxesScores:
            let boxesIndex = Self.boxesIndex(outputs.map(\.shape))!
            let boxes = outputs[boxesIndex], scores = outputs[1 - boxesIndex]
            let n = boxes.shape[0], columns = scores.shape[1], offset = backgroundClass ? 1 : 0
            let sx = normalizedBoxes ? Double(inputWidth) : 1, sy = normalizedBoxes ? Double(inputHeight) : 1
            for r in 0..<n {
                let b = boxes.values.startIndex + r * 4, s = scores.values.startIndex + r * columns
                emit({
                    box(Double(boxes.values[b]) * sx, Double(boxes.values[b + 1]) * sy,
                        Double(boxes.values[b + 2]) * sx, Double(boxes.values[b + 3]) * sy)
                }, objectness: 1, scores: { Double(scores.values[s + offset + $0]) })
            }
        }
        return detections
    }
}

/// The shared backend's filtering of detections (see `DetectionPostprocessing`).
public enum DetectionFiltering {
    /// Intersection over union of two boxes in continuous coordinates (COCO's definition: no
    /// "+1" pixel convention).
    public static func iou(_ a: Box, _ b: Box) -> Double {
        COCOEvaluation.iou(a, b, crowd: false)
    }

    /// Score floor, class-wise NMS and the per-image cap, in that order. Ties in score keep the
    /// detections' original order, so the result is deterministic.
    public static func apply(_ settings: DetectionPostprocessing, to detections: [Detection]) -> [Detection] {
        let floor = settings.minScore ?? -Double.infinity
        var kept: [(offset: Int, element: Detection)] = detections.enumerated().filter { $0.element.score >= floor }.map { ($0.offset, $0.element) }
        kept.sort { a, b in a.element.score != b.element.score ? a.element.score > b.element.score : a.offset < b.offset }
        if let threshold = settings.nmsIoU {
            var survivors: [(offset: Int, element: Detection)] = []
            var byClass: [Int: [Box]] = [:]
            for candidate in kept {
                let others = byClass[candidate.element.classIndex] ?? []
                if others.contains(where: { iou($0, candidate.element.box) > threshold }) { continue }
                byClass[candidate.element.classIndex, default: []].append(candidate.element.box)
                survivors.append(candidate)
            }
            kept = survivors
        }
        if let cap = settings.maxDetections, kept.count > cap { kept = Array(kept.prefix(cap)) }
        return kept.map(\.element)
    }
}
