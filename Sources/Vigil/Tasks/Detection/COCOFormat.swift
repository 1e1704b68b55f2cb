import Foundation

/// A box as COCO writes it: left, top, width, height in pixels.
public struct Box: Sendable, Hashable, Codable {
    public var x: Double
    public var y: Double
    public var width: Double
    public var height: Double

    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    public init(from decoder: any Decoder) throws {
        var c = try decoder.unkeyedContainer()
        guard c.count == 4 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "a bbox is [x, y, width, height]: 4 numbers, found \(c.count ?? 0)"))
        }
        x = try c.decode(Double.self)
        y = try c.decode(Double.self)
        width = try c.decode(Double.self)
        height = try c.decode(Double.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.unkeyedContainer()
        try c.encode(x)
        try c.encode(y)
        try c.encode(width)
        try c.encode(height)
    }

    var isFinite: Bool { x.isFinite && y.isFinite && width.isFinite && height.isFinite }
}

/// COCO ground truth (the parts detection evaluation uses): images, annotations with boxes,
/// areas and crowd flags, and categories.
public struct COCOGroundTruth: Sendable {
    public struct Image: Sendable, Hashable, Codable {
        public var id: Int
        public var width: Int?
        public var height: Int?
        public var fileName: String?

        enum CodingKeys: String, CodingKey { case id, width, height, fileName = "file_name" }

        public init(id: Int, width: Int? = nil, height: Int? = nil, fileName: String? = nil) {
            self.id = id
            self.width = width
            self.height = height
            self.fileName = fileName
        }
    }

    public struct Annotation: Sendable, Hashable, Codable {
        public var id: Int
        public var imageID: Int
        public var categoryID: Int
        public var bbox: Box
        /// COCO's area: of the segment for COCO itself, not necessarily width × height. Used for the
        /// small / medium / large ranges.
        public var area: Double
        public var isCrowd: Bool

        enum CodingKeys: String, CodingKey { case id, imageID = "image_id", categoryID = "category_id", bbox, area, isCrowd = "iscrowd" }

        public init(id: Int, imageID: Int, categoryID: Int, bbox: Box, area: Double, isCrowd: Bool = false) {
            self.id = id
            self.imageID = imageID
            self.categoryID = categoryID
            self.bbox = bbox
            self.area = area
            self.isCrowd = isCrowd
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.decode(Int.self, forKey: .id)
            imageID = try c.decode(Int.self, forKey: .imageID)
            categoryID = try c.decode(Int.self, forKey: .categoryID)
            bbox = try c.decode(Box.self, forKey: .bbox)
            area = try c.decode(Double.self, forKey: .area)
            // COCO writes 0/1; some exporters write booleans.
            if let flag = try? c.decodeIfPresent(Int.self, forKey: .isCrowd) {
                isCrowd = flag != 0
            } else {
                isCrowd = try c.decodeIfPresent(Bool.self, forKey: .isCrowd) ?? false
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(imageID, forKey: .imageID)
            try c.encode(categoryID, forKey: .categoryID)
            try c.encode(bbox, forKey: .bbox)
            try c.encode(area, forKey: .area)
            try c.encode(isCrowd ? 1 : 0, forKey: .isCrowd)
        }
    }

    public struct Category: Sendable, Hashable, Codable {
        public var id: Int
        public var name: String

        public init(id: Int, name: String) {
            self.id = id
            self.name = name
        }
    }

    public var images: [Image]
    public var annotations: [Annotation]
    public var categories: [Category]

    public init(images: [Image], annotations: [Annotation], categories: [Category]) {
        self.images = images
        self.annotations = annotations
        self.categories = categories
    }

    private struct File: Decodable {
        var images: [Image]
        var annotations: [Annotation]
        var categories: [Category]
    }

    private struct Lists: Decodable {
        var images: [Image]
        var categories: [Category]
    }

    /// Reads COCO annotation JSON and checks it: unique image and annotation ids, annotations on
    /// known images and categories, finite boxes of positive size, finite areas.
    public static func load(_ url: URL, displayPath: String? = nil) throws -> COCOGroundTruth {
        let shown = displayPath ?? url.path
        let data = try JSONInput.read(url, displayPath: shown)
        let truth: COCOGroundTruth
        if let scanned = scan(data) {
            truth = scanned
        } else {
            let file = try JSONInput.decode(File.self, from: data, displayPath: shown)
            truth = COCOGroundTruth(images: file.images, annotations: file.annotations, categories: file.categories)
        }
        try truth.validate(displayPath: shown)
        return truth
    }

    /// The file read by `COCOScanner` (annotations) and JSONDecoder (the small `images` and
    /// `categories` lists); nil when any part is not plainly of the COCO shape (JSONDecoder then
    /// reads the whole file, for its messages).
    static func scan(_ data: Data) -> COCOGroundTruth? {
        data.withUnsafeBytes { raw -> COCOGroundTruth? in
            let bytes = raw.bindMemory(to: UInt8.self)
            guard let (annotations, images, categories) = COCOScanner.groundTruth(bytes) else { return nil }
            var lists = Data("{\"images\":".utf8)
            lists.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[images]))
            lists.append(contentsOf: ",\"categories\":".utf8)
            lists.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[categories]))
            lists.append(UInt8(ascii: "}"))
            guard let decoded = try? JSONDecoder().decode(Lists.self, from: lists) else { return nil }
            return COCOGroundTruth(images: decoded.images, annotations: annotations, categories: decoded.categories)
        }
    }

    public func validate(displayPath shown: String) throws {
        var imageIDs = Set<Int>()
        for image in images where !imageIDs.insert(image.id).inserted {
            throw InputError("\(shown): image id \(image.id) appears twice in 'images'")
        }
        var categoryIDs = Set<Int>()
        for category in categories where !categoryIDs.insert(category.id).inserted {
            throw InputError("\(shown): category id \(category.id) appears twice in 'categories'")
        }
        var annotationIDs = Set<Int>()
        annotationIDs.reserveCapacity(annotations.count)
        for (index, a) in annotations.enumerated() {
            // Built only for a message: interpolating a name per annotation cost more than the checks.
            var name: String { "annotations[\(index)] (id \(a.id))" }
            guard annotationIDs.insert(a.id).inserted else {
                throw InputError("\(shown): \(name): annotation id \(a.id) appears twice (ids must be unique)")
            }
            guard imageIDs.contains(a.imageID) else {
                throw InputError("\(shown): \(name): image_id \(a.imageID) is not in 'images'")
            }
            guard categoryIDs.contains(a.categoryID) else {
                throw InputError("\(shown): \(name): category_id \(a.categoryID) is not in 'categories'")
            }
            try Self.check(a.bbox, name, shown)
            guard a.area.isFinite, a.area >= 0 else {
                throw InputError("\(shown): \(name): area \(a.area) is not a finite, non-negative number")
            }
        }
    }

    static func check(_ box: Box, _ name: @autoclosure () -> String, _ shown: String) throws {
        guard box.isFinite else {
            let values = [box.x, box.y, box.width, box.height].map(Formatting.number).joined(separator: ", ")
            throw InputError("\(shown): \(name()): bbox [\(values)] has a value that is not a finite number; boxes and scores must be finite")
        }
        guard box.width > 0, box.height > 0 else {
            throw InputError("\(shown): \(name()): bbox [\(box.x), \(box.y), \(box.width), \(box.height)] has zero or negative size (COCO boxes are [x, y, width, height])")
        }
    }
}

/// One detection in COCO's results format.
public struct COCODetection: Sendable, Hashable, Codable {
    public var imageID: Int
    public var categoryID: Int
    public var bbox: Box
    public var score: Double

    enum CodingKeys: String, CodingKey { case imageID = "image_id", categoryID = "category_id", bbox, score }

    public init(imageID: Int, categoryID: Int, bbox: Box, score: Double) {
        self.imageID = imageID
        self.categoryID = categoryID
        self.bbox = bbox
        self.score = score
    }

    /// Reads a COCO results file (`[{"image_id", "category_id", "bbox", "score"}, …]`) and checks
    /// it against the ground truth: known image and category ids, finite scores, boxes of
    /// positive size. (pycocotools asserts on unknown images and silently drops unknown
    /// categories; Vigil refuses both, naming the detection.)
    public static func load(_ url: URL, displayPath: String? = nil, groundTruth: COCOGroundTruth) throws -> [COCODetection] {
        let shown = displayPath ?? url.path
        let data = try JSONInput.read(url, displayPath: shown)
        if let scanned = scanResults(data) {
            try validate(scanned, displayPath: shown, groundTruth: groundTruth)
            return scanned
        }
        let detections: [COCODetection]
        do {
            detections = try JSONInput.decodeArray(COCODetection.self, from: data, displayPath: shown)
        } catch let error as InputError {
            // NaN and Infinity are not JSON, but Python's json module writes them; find which
            // detection has one, for a better message than "not valid JSON".
            guard let parsed = JSONInput.decodeAllowingNonFinite([COCODetection].self, from: data) else { throw error }
            try validate(parsed, displayPath: shown, groundTruth: groundTruth)
            throw error
        }
        try validate(detections, displayPath: shown, groundTruth: groundTruth)
        return detections
    }

    /// The file read by `COCOScanner`, in parallel over runs of whole elements for large
    /// files; nil when any part is not plainly of the results shape (JSONDecoder then decides).
    static func scanResults(_ data: Data) -> [COCODetection]? {
        let scan: @Sendable (Range<Data.Index>) -> [COCODetection]? = { range in
            data[range].withUnsafeBytes { COCOScanner.results($0.bindMemory(to: UInt8.self), bracketed: false) }
        }
        if let guessed = JSONInput.guessedParts(data), let detections = JSONInput.parseInParallel(guessed, scan) {
            return detections
        }
        guard let ranges = JSONInput.parallelParts(data) else {
            return data.withUnsafeBytes { COCOScanner.results($0.bindMemory(to: UInt8.self), bracketed: true) }
        }
        return JSONInput.parseInParallel(ranges, scan)
    }

    public static func validate(_ detections: [COCODetection], displayPath shown: String, groundTruth: COCOGroundTruth) throws {
        // Ids are unique in a validated ground truth.
        let images = IDIndex(groundTruth.images.map(\.id)), categories = IDIndex(groundTruth.categories.map(\.id))
        for (index, d) in detections.enumerated() {
            var name: String { "detection \(index) (image_id \(d.imageID))" }
            guard d.score.isFinite else {
                throw InputError("\(shown): \(name): score is \(Formatting.number(d.score)), not a finite number; boxes and scores must be finite")
            }
            guard images[d.imageID] != nil else {
                throw InputError("\(shown): \(name): image_id \(d.imageID) is not an image of the ground truth")
            }
            guard categories[d.categoryID] != nil else {
                throw InputError("\(shown): \(name): category_id \(d.categoryID) is not a category of the ground truth")
            }
            try COCOGroundTruth.check(d.bbox, name, shown)
        }
    }
}

/// Reading JSON files with errors that say where: Foundation's decoder reports neither line nor
/// column on Linux, so on failure the position is recovered from JSONSerialization's message.
enum JSONInput {
    /// Decodes JSON that may hold NaN and Infinity (Python's json writes them), through JSON5;
    /// nil when it cannot. Only valid UTF-8 reaches JSON5: Foundation's JSON5 reader stopped the
    /// process (a fatal error in CodableUtilities) on a file with broken UTF-8, found by fuzzing.
    static func decodeAllowingNonFinite<T: Decodable>(_ type: T.Type, from data: Data) -> T? {
        guard String(data: data, encoding: .utf8) != nil else { return nil }
        let decoder = JSONDecoder()
        decoder.allowsJSON5 = true
        return try? decoder.decode(type, from: data)
    }

    static func read(_ url: URL, displayPath: String) throws -> Data {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw InputError("\(displayPath): cannot be read (missing file or no permission)")
        }
        return data
    }

    static func decode<T: Decodable>(_ type: T.Type, from data: Data, displayPath: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as DecodingError {
            if case .dataCorrupted(let context) = error, context.codingPath.isEmpty {
                throw InputError("\(displayPath): \(syntaxError(data))")
            }
            throw InputError("\(displayPath): \(JSONProblem.describe(error))")
        }
    }

    /// Decodes a top-level JSON array, splitting it at element boundaries and decoding the parts
    /// in parallel (Foundation's decoder is single-threaded and the largest cost of scoring a
    /// results file). Any problem falls back to decoding the whole array, for its message.
    static func decodeArray<T: Decodable & Sendable>(_ type: T.Type, from data: Data, displayPath: String) throws -> [T] {
        let parts = parallelParts(data).flatMap { ranges in
            parseInParallel(ranges) { range -> [T]? in
                var chunk = Data([UInt8(ascii: "[")])
                chunk.append(data[range])
                chunk.append(UInt8(ascii: "]"))
                return try? JSONDecoder().decode([T].self, from: chunk)
            }
        }
        return try parts ?? decode([T].self, from: data, displayPath: displayPath)
    }

    /// Runs of whole elements of a large top-level array, one per core; nil for data under 1 MB,
    /// on one core, or when the data is not a well-formed array (then it is parsed whole).
    static func parallelParts(_ data: Data) -> [Range<Data.Index>]? {
        partCount(data).flatMap { arrayElementRanges(data, parts: $0) }
    }

    /// One part per core for data over 1 MB; nil when it is not worth splitting.
    private static func partCount(_ data: Data) -> Int? {
        let parts = ProcessInfo.processInfo.activeProcessorCount
        return data.count > 1 << 20 && parts > 1 ? parts : nil
    }

    /// Like `parallelParts`, but cut without reading the array first: near each share of the
    /// data, at the first `}`, `,`, `{` (spaces allowed between). Such a cut may fall inside a
    /// string or a nested value, so the parts are only good to a parser that reads each part
    /// strictly to its end: the first part is read from the array's true start, so if it
    /// succeeds its end is a true boundary between elements, and so on for each next part. If
    /// any part fails, the caller reads `parallelParts` instead.
    static func guessedParts(_ data: Data) -> [Range<Data.Index>]? {
        guard let parts = partCount(data) else { return nil }
        return data.withUnsafeBytes { raw -> [Range<Data.Index>]? in
            let bytes = raw.bindMemory(to: UInt8.self)
            func isSpace(_ k: Int) -> Bool { bytes[k] == 32 || bytes[k] == 9 || bytes[k] == 10 || bytes[k] == 13 }
            var first = 0, last = bytes.count - 1
            while first < bytes.count, isSpace(first) { first += 1 }
            while last > first, isSpace(last) { last -= 1 }
            guard first < last, bytes[first] == UInt8(ascii: "["), bytes[last] == UInt8(ascii: "]") else { return nil }
            var cuts = [first + 1]   // where each part starts; a cut's comma is just before it
            for k in 1..<parts {
                var i = max(first + 1 + (last - first) * k / parts, cuts.last! + 1)
                while i < last {
                    if bytes[i] == UInt8(ascii: ",") {
                        var before = i - 1, after = i + 1
                        while before > first, isSpace(before) { before -= 1 }
                        while after < last, isSpace(after) { after += 1 }
                        if bytes[before] == UInt8(ascii: "}") && bytes[after] == UInt8(ascii: "{") { break }
                    }
                    i += 1
                }
                guard i < last else { break }
                cuts.append(i + 1)
            }
            guard cuts.count > 1 else { return nil }
            let ends = cuts.dropFirst().map { $0 - 1 } + [last]
            return zip(cuts, ends).map { (data.startIndex + $0)..<(data.startIndex + $1) }
        }
    }

    /// `parse` on every part at once, the results joined in order; nil when any part fails.
    static func parseInParallel<T: Sendable>(_ ranges: [Range<Data.Index>], _ parse: @Sendable (Range<Data.Index>) -> [T]?) -> [T]? {
        let slots = SharedSlots<[T]>(count: ranges.count)
        DispatchQueue.concurrentPerform(iterations: ranges.count) { index in slots[index] = parse(ranges[index]) }
        var result: [T] = []
        for index in ranges.indices {
            guard let part = slots[index] else { return nil }
            result += part
        }
        return result
    }

    /// Up to `parts` byte ranges, each a run of whole elements of the top-level array (without
    /// the brackets), cut at commas between elements; nil when the data is not a well-formed
    /// array at this level of scrutiny (strings, escapes and nesting are followed).
    static func arrayElementRanges(_ data: Data, parts: Int) -> [Range<Data.Index>]? {
        data.withUnsafeBytes { raw -> [Range<Data.Index>]? in
            let bytes = raw.bindMemory(to: UInt8.self)
            var i = 0
            while i < bytes.count, bytes[i] == 32 || bytes[i] == 9 || bytes[i] == 10 || bytes[i] == 13 { i += 1 }
            guard i < bytes.count, bytes[i] == UInt8(ascii: "[") else { return nil }
            let start = i + 1
            let target = max(1, (bytes.count - start) / parts)
            var cuts = [start], depth = 1, inString = false, escaped = false
            i = start
            while i < bytes.count {
                let byte = bytes[i]
                if inString {
                    if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                } else {
                    switch byte {
                    case UInt8(ascii: "\""): inString = true
                    case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        depth -= 1
                        if depth == 0 {
                            var rest = i + 1
                            while rest < bytes.count, bytes[rest] == 32 || bytes[rest] == 9 || bytes[rest] == 10 || bytes[rest] == 13 { rest += 1 }
                            guard rest == bytes.count else { return nil }
                            cuts.append(i)
                            return zip(cuts, cuts.dropFirst()).enumerated().map { index, pair in
                                // Every part after the first starts just after its comma.
                                (data.startIndex + pair.0 + (index == 0 ? 0 : 1))..<(data.startIndex + pair.1)
                            }
                        }
                    case UInt8(ascii: ","):
                        if depth == 1 && i - cuts.last! >= target && cuts.count < parts { cuts.append(i) }
                    default: break
                    }
                }
                i += 1
            }
            return nil
        }
    }

    /// "line L, column C: not valid JSON (…)" from JSONSerialization's "around character N".
    static func syntaxError(_ data: Data) -> String {
        do {
            _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
            return "not valid JSON"
        } catch {
            let text = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
            if let match = text.firstMatch(of: /character (\d+)/), let offset = Int(match.output.1) {
                let (line, column) = position(of: offset, in: data)
                let hint = token(at: offset, in: data).map { " near '\($0)'" } ?? ""
                return "line \(line), column \(column): not valid JSON\(hint)"
            }
            return "not valid JSON (\(text))"
        }
    }

    /// 1-based line and column (in bytes) of a 0-based byte offset.
    static func position(of offset: Int, in data: Data) -> (line: Int, column: Int) {
        var line = 1, column = 1
        for byte in data.prefix(offset) {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return (line, column)
    }

    /// Up to 12 printable characters at `offset`, to show what the parser stumbled on.
    static func token(at offset: Int, in data: Data) -> String? {
        guard offset < data.count else { return nil }
        let bytes = data[(data.startIndex + offset)..<(data.startIndex + min(data.count, offset + 12))]
        let text = String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        return text.isEmpty ? nil : text
    }
}
