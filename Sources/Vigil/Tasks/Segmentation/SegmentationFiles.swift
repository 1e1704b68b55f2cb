import Foundation

/// Label masks as PNG files: 8-bit, one channel, each pixel a class index (255 is commonly the
/// ignore index), the layout of Cityscapes' `labelIds`, ADE20K and mmsegmentation's data sets.
public enum SegmentationMask {
    /// The mask's width, height and row-major class indices. Palette PNGs (PASCAL VOC's) are
    /// refused rather than read as colours: OpenCV expands palettes to RGB, losing the indices.
    public static func load(_ url: URL, shown: String) throws -> (width: Int, height: Int, pixels: [UInt8]) {
        let header: Data
        do {
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            header = try handle.read(upToCount: 26) ?? Data()
        } catch {
            throw InputError("\(shown): cannot be read (\(FileProblem.describe(error)))")
        }
        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        guard header.count == 26, Array(header.prefix(8)) == signature else {
            throw InputError("\(shown): not a PNG file; masks are 8-bit single-channel PNGs of class indices (a lossy JPEG would change them)")
        }
        let depth = header[header.startIndex + 24], colourType = header[header.startIndex + 25]
        switch colourType {
        case 0 where depth == 8:
            break
        case 3:
            throw InputError("\(shown): a palette PNG; masks must be 8-bit greyscale PNGs whose values are the class indices "
                             + "(keep the indices: numpy.array(Image.open(path)) with Pillow, saved back with Image.fromarray)")
        case 0:
            throw InputError("\(shown): a \(depth)-bit greyscale PNG; masks must be 8-bit")
        default:
            throw InputError("\(shown): a colour PNG (PNG colour type \(colourType)); masks must be 8-bit single-channel PNGs of class indices")
        }
        let image = try Image(contentsOf: url)
        return (image.width, image.height, image.pixels())
    }
}

/// `vigil score segmentation`: a folder of truth masks and a folder of predicted masks, matched
/// by their paths inside the folders.
public enum SegmentationFiles {
    /// The masks' per-image counts, in path order, and the number of classes: `classes`, or one
    /// more than the largest class index seen. Every truth mask needs a prediction at the same
    /// relative path and of the same size, and every prediction a truth mask.
    public static func load(truth: URL, predictions: URL, truthPath: String, predictionsPath: String, classes: Int?,
                            ignoreIndex: Int?) throws -> (classes: Int, images: [SemanticSegmentation.ImageCounts]) {
        let truthFiles = try pngFiles(in: truth, shown: truthPath)
        let predictedFiles = try pngFiles(in: predictions, shown: predictionsPath)
        guard !truthFiles.isEmpty else { throw InputError("\(truthPath): no PNG masks in this folder") }
        let predicted = Set(predictedFiles)
        if let missing = truthFiles.first(where: { !predicted.contains($0) }) {
            let count = truthFiles.filter { !predicted.contains($0) }.count
            throw InputError("\(truthPath)/\(missing) has no prediction \(predictionsPath)/\(missing)" + (count > 1 ? " (\(count) masks in all)" : ""))
        }
        let known = Set(truthFiles)
        if let extra = predictedFiles.first(where: { !known.contains($0) }) {
            throw InputError("\(predictionsPath)/\(extra) has no truth mask \(truthPath)/\(extra)")
        }
        // Pairs are decoded and counted in parallel (one pair per worker at a time, so memory
        // stays at a few masks), with room for every 8-bit value, then cut to the classes. The
        // first problem in path order is the one reported.
        let slots = SharedSlots<Result<SemanticSegmentation.ImageCounts, any Error>>(count: truthFiles.count)
        DispatchQueue.concurrentPerform(iterations: truthFiles.count) { index in
            let name = truthFiles[index]
            slots[index] = Result {
                let t = try SegmentationMask.load(truth.appendingPathComponent(name), shown: "\(truthPath)/\(name)")
                let p = try SegmentationMask.load(predictions.appendingPathComponent(name), shown: "\(predictionsPath)/\(name)")
                guard t.width == p.width && t.height == p.height else {
                    throw InputError("\(predictionsPath)/\(name) is \(p.width)×\(p.height), its truth mask \(t.width)×\(t.height); they must be the same size")
                }
                return try SemanticSegmentation.ImageCounts(id: name, truth: t.pixels, prediction: p.pixels, width: t.width,
                                                             classes: 256, ignoreIndex: ignoreIndex)
            }
        }
        var images = try slots.values.map { try $0.get() }
        var largest = -1
        for counts in images {
            if let top = (0..<256).last(where: { counts.truth[$0] > 0 || counts.predicted[$0] > 0 }) { largest = max(largest, top) }
        }
        let count = classes ?? max(1, largest + 1)
        for (index, image) in images.enumerated() {
            if let c = (count..<256).first(where: { image.truth[$0] > 0 }) {
                throw InputError("\(truthPath)/\(image.id): \(image.truth[c]) truth pixels are class \(c), not one of 0…\(count - 1) (--num-classes \(count))"
                                 + (ignoreIndex.map { " or the ignore index \($0)" } ?? ""))
            }
            if let c = (count..<256).first(where: { image.predicted[$0] > 0 }) {
                throw InputError("\(predictionsPath)/\(image.id): \(image.predicted[c]) predicted pixels are class \(c), not one of 0…\(count - 1) (--num-classes \(count))")
            }
            images[index].intersection.removeSubrange(count...)
            images[index].predicted.removeSubrange(count...)
            images[index].truth.removeSubrange(count...)
        }
        return (count, images)
    }

    /// The PNG files under `folder`, as paths relative to it, sorted.
    static func pngFiles(in folder: URL, shown: String) throws -> [String] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw InputError("\(shown): no such folder")
        }
        let base = folder.standardizedFileURL.path
        var names: [String] = []
        let enumerator = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey])
        while let url = enumerator?.nextObject() as? URL {
            guard url.pathExtension.lowercased() == "png",
                  (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
            names.append(String(url.standardizedFileURL.path.dropFirst(base.count + 1)))
        }
        return names.sorted()
    }
}
