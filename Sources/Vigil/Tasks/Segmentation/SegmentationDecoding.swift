import CVBridge
import Foundation

/// A segmentation network's output as one class index per image pixel, through the model's
/// preprocessing backwards, as mmsegmentation's post-processing: every class's score map is
/// resized (bilinear, half-pixel centres, as torch's `align_corners=False`) to the network
/// input, the rectangle where preprocessing placed the image is cut out (letterbox and pad
/// borders dropped), that is resized to the image's size, and each pixel takes the class with
/// the highest score (ties to the lower class). A one-channel map is a probability: a pixel is
/// class 1 where it exceeds the threshold, else 0 (the map is resized as given, before the
/// threshold).
public enum SegmentationDecoding {
    /// `scores`: `classes` planes of `mapWidth` × `mapHeight` (a [1, C, H, W] output), at the
    /// network's input size or below it (a decoder head at stride 4 or 8).
    public static func decode(_ scores: UnsafeBufferPointer<Float>, classes: Int, mapWidth: Int, mapHeight: Int,
                              input: ModelSpec.Input, imageWidth: Int, imageHeight: Int, threshold: Double = 0.5) throws -> [UInt8] {
        guard scores.count == classes * mapWidth * mapHeight else {
            throw InputError("the segmentation output has \(scores.count) numbers, not \(classes) classes × \(mapHeight) × \(mapWidth)")
        }
        let mapping = input.mapping(imageWidth: imageWidth, imageHeight: imageHeight)
        let placedWidth = Int((mapping.scaleX * Double(imageWidth)).rounded()), placedHeight = Int((mapping.scaleY * Double(imageHeight)).rounded())
        let left = Int(mapping.offsetX.rounded()), top = Int(mapping.offsetY.rounded())
        guard left >= 0, top >= 0, left + placedWidth <= input.width, top + placedHeight <= input.height else {
            throw InputError("resize \(input.resize.rawValue) cuts part of a \(imageWidth)×\(imageHeight) image off the \(input.width)×\(input.height) input; "
                             + "a segmentation model must see the whole image (use stretch, pad or letterbox)")
        }
        var labels = [UInt8](repeating: 0, count: imageWidth * imageHeight)
        try labels.withUnsafeMutableBufferPointer { out in
            try Bridge.check("segmentation output") { error in
                cvb_segmentation_decode(scores.baseAddress, Int32(classes), Int32(mapWidth), Int32(mapHeight), Int32(input.width),
                                        Int32(input.height), Int32(left), Int32(top), Int32(placedWidth), Int32(placedHeight),
                                        Int32(imageWidth), Int32(imageHeight), threshold, out.baseAddress, error)
            }
        }
        return labels
    }
}
