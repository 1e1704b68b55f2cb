import Foundation

/// Readers for exactly the shapes of COCO's two files, written because Foundation's JSONDecoder
/// took most of `vigil score detection`'s time (its generic containers, key lookups and
/// per-value boxing):
/// - a results file: a JSON array of objects with integer `image_id` and `category_id`, a `bbox`
///   of four numbers and a numeric `score`;
/// - the annotations of a ground-truth file: objects with integer `id`, `image_id` and
///   `category_id`, a `bbox`, a numeric `area` and an optional `iscrowd` (0/1 or a boolean).
/// Other keys are skipped (such as `segmentation`, most of a real annotation file). Numbers are
/// converted by `strtod`, which rounds correctly, as Foundation does, so the values are the same
/// bits. Anything else (a missing or repeated key, a value of another type, a syntax error, NaN)
/// makes a reader return nil, and the caller decodes with JSONDecoder, whose messages say what
/// is wrong.
enum COCOScanner {
    /// The detections of `bytes`, one top-level array or a run of its elements (a part that
    /// `JSONInput.arrayElementRanges` cut, without the brackets).
    static func results(_ bytes: UnsafeBufferPointer<UInt8>, bracketed: Bool) -> [COCODetection]? {
        var reader = Reader(bytes: bytes)
        reader.skipSpace()
        if !bracketed && reader.atEnd() { return nil }  // a part of a non-empty array is never empty
        guard let detections = reader.array(bracketed: bracketed, capacity: bytes.count / 90, { $0.detection() }),
              reader.atEnd() else { return nil }
        return detections
    }

    /// A ground-truth file: its annotations read here, and the byte ranges of its `images` and
    /// `categories` arrays (small; decoded by the caller). Keys other than these three are skipped.
    static func groundTruth(_ bytes: UnsafeBufferPointer<UInt8>)
        -> (annotations: [COCOGroundTruth.Annotation], images: Range<Int>, categories: Range<Int>)? {
        var reader = Reader(bytes: bytes)
        var annotations: [COCOGroundTruth.Annotation]?, images: Range<Int>?, categories: Range<Int>?
        reader.skipSpace()
        guard reader.take(UInt8(ascii: "{")) else { return nil }
        reader.skipSpace()
        if reader.take(UInt8(ascii: "}")) { return nil }
        while true {
            reader.skipSpace()
            guard let key = reader.key() else { return nil }
            reader.skipSpace()
            guard reader.take(UInt8(ascii: ":")) else { return nil }
            reader.skipSpace()
            if Reader.is(key, "annotations") {
                guard annotations == nil,
                      let read = reader.array(bracketed: true, capacity: bytes.count / 200, { $0.annotation() }) else { return nil }
                annotations = read
            } else {
                let start = reader.i
                guard reader.skipValue(depth: 0) else { return nil }
                if Reader.is(key, "images") {
                    guard images == nil else { return nil }
                    images = start..<reader.i
                } else if Reader.is(key, "categories") {
                    guard categories == nil else { return nil }
                    categories = start..<reader.i
                }
            }
            reader.skipSpace()
            if reader.take(UInt8(ascii: ",")) { continue }
            guard reader.take(UInt8(ascii: "}")), reader.atEnd() else { return nil }
            break
        }
        guard let annotations, let images, let categories else { return nil }
        return (annotations, images, categories)
    }

    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var i = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        mutating func skipSpace() {
            while i < bytes.count, bytes[i] == 32 || bytes[i] == 10 || bytes[i] == 13 || bytes[i] == 9 { i += 1 }
        }

        mutating func atEnd() -> Bool {
            skipSpace()
            return i == bytes.count
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard i < bytes.count, bytes[i] == byte else { return false }
            i += 1
            return true
        }

        /// `[element, …]` (or the elements alone when not bracketed), each read by `element`.
        mutating func array<Element>(bracketed: Bool, capacity: Int, _ element: (inout Reader) -> Element?) -> [Element]? {
            var elements: [Element] = []
            elements.reserveCapacity(capacity)
            if bracketed {
                guard take(UInt8(ascii: "[")) else { return nil }
                skipSpace()
                if take(UInt8(ascii: "]")) { return elements }
            }
            while true {
                guard let next = element(&self) else { return nil }
                elements.append(next)
                skipSpace()
                if take(UInt8(ascii: ",")) {
                    skipSpace()
                    continue
                }
                return !bracketed || take(UInt8(ascii: "]")) ? elements : nil
            }
        }

        /// The members of one `{…}`, in any order: `member` reads the value of each key (and
        /// returns false on a problem); false for an empty object or a syntax error.
        mutating func object(_ member: (inout Reader, UnsafeBufferPointer<UInt8>) -> Bool) -> Bool {
            guard take(UInt8(ascii: "{")) else { return false }
            skipSpace()
            if take(UInt8(ascii: "}")) { return false }
            while true {
                skipSpace()
                guard let name = key() else { return false }
                skipSpace()
                guard take(UInt8(ascii: ":")) else { return false }
                skipSpace()
                guard member(&self, name) else { return false }
                skipSpace()
                if take(UInt8(ascii: ",")) { continue }
                return take(UInt8(ascii: "}"))
            }
        }

        /// One detection: the four keys, each once, in any order.
        mutating func detection() -> COCODetection? {
            var imageID: Int?, categoryID: Int?, score: Double?, box: Box?
            let read = object { reader, name in
                if Self.is(name, "image_id") { return Self.once(&imageID, reader.integer()) }
                if Self.is(name, "category_id") { return Self.once(&categoryID, reader.integer()) }
                if Self.is(name, "bbox") { return Self.once(&box, reader.fourNumbers()) }
                if Self.is(name, "score") { return Self.once(&score, reader.number()) }
                return reader.skipValue(depth: 0)
            }
            guard read, let imageID, let categoryID, let score, let box else { return nil }
            return COCODetection(imageID: imageID, categoryID: categoryID, bbox: box, score: score)
        }

        /// One annotation: `id`, `image_id`, `category_id`, `bbox`, `area`, optionally `iscrowd`.
        mutating func annotation() -> COCOGroundTruth.Annotation? {
            var id: Int?, imageID: Int?, categoryID: Int?, box: Box?, area: Double?, crowd: Bool?
            let read = object { reader, name in
                if Self.is(name, "id") { return Self.once(&id, reader.integer()) }
                if Self.is(name, "image_id") { return Self.once(&imageID, reader.integer()) }
                if Self.is(name, "category_id") { return Self.once(&categoryID, reader.integer()) }
                if Self.is(name, "bbox") { return Self.once(&box, reader.fourNumbers()) }
                if Self.is(name, "area") { return Self.once(&area, reader.number()) }
                if Self.is(name, "iscrowd") { return Self.once(&crowd, reader.flag()) }
                return reader.skipValue(depth: 0)
            }
            guard read, let id, let imageID, let categoryID, let box, let area else { return nil }
            return COCOGroundTruth.Annotation(id: id, imageID: imageID, categoryID: categoryID, bbox: box, area: area,
                                              isCrowd: crowd ?? false)
        }

        /// Sets `slot` to `value` when it was unset and the value was read.
        static func once<Value>(_ slot: inout Value?, _ value: Value?) -> Bool {
            guard slot == nil, let value else { return false }
            slot = value
            return true
        }

        /// A key string, without its quotes; nil when it holds an escape (rare: JSONDecoder then
        /// reads the file).
        mutating func key() -> UnsafeBufferPointer<UInt8>? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = i
            while i < bytes.count, bytes[i] != UInt8(ascii: "\"") {
                if bytes[i] == UInt8(ascii: "\\") { return nil }
                i += 1
            }
            guard i < bytes.count else { return nil }
            i += 1
            return UnsafeBufferPointer(rebasing: bytes[start..<(i - 1)])
        }

        static func `is`(_ name: UnsafeBufferPointer<UInt8>, _ word: StaticString) -> Bool {
            name.count == word.utf8CodeUnitCount && (0..<name.count).allSatisfy { name[$0] == word.utf8Start[$0] }
        }

        /// COCO's crowd flag: an integer (non-zero is a crowd) or a boolean.
        mutating func flag() -> Bool? {
            if literal("true") { return true }
            if literal("false") { return false }
            return integer().map { $0 != 0 }
        }

        /// An integer literal: optional minus, digits (no fraction or exponent).
        mutating func integer() -> Int? {
            let start = i
            if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
            var value = 0, digits = 0
            while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 {
                let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times.addingReportingOverflow(Int(bytes[i] - 48))
                guard !overflow1, !overflow2 else { return nil }
                value = sum
                digits += 1
                i += 1
            }
            guard digits > 0, digits == 1 || bytes[i - digits] != 48 else { return nil }  // JSON: no leading zeros
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") || bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") { return nil }
            return bytes[start] == UInt8(ascii: "-") ? -value : value
        }

        /// A JSON number, converted by strtod (correctly rounded).
        mutating func number() -> Double? {
            let start = i
            if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
            let digitsStart = i
            while i < bytes.count, isNumberByte(bytes[i]) { i += 1 }
            guard i > digitsStart, i - start < 64, bytes[digitsStart] >= 48, bytes[digitsStart] <= 57 else { return nil }
            if let exact = Self.exactDecimal(UnsafeBufferPointer(rebasing: bytes[digitsStart..<i])) {
                return bytes[start] == UInt8(ascii: "-") ? -exact : exact
            }
            let length = i - start
            // strtod needs a terminated string: copy the digits to the stack (no allocation).
            let value = withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { text -> Double in
                for k in 0..<length { text[k] = CChar(bitPattern: bytes[start + k]) }
                text[length] = 0
                var end: UnsafeMutablePointer<CChar>?
                let v = strtod(text.baseAddress!, &end)
                return end == text.baseAddress! + length ? v : .nan
            }
            return value.isFinite ? value : nil
        }

        /// Powers of ten that are exact doubles (10^22 is the largest).
        private static let exactPowersOfTen: [Double] = (0...22).reduce(into: []) { powers, k in
            powers.append(k == 0 ? 1 : powers[k - 1] * 10)
        }

        /// An unsigned decimal (`123`, `45.678`, `9e-3`) whose digits, read as an integer, are at
        /// most 2^53 and whose power of ten is within ±22: then the integer and the power are
        /// exact doubles, and one multiplication or division, correctly rounded by IEEE 754, gives
        /// the correctly rounded value, as strtod (Clinger's fast path). nil otherwise: strtod
        /// decides. Most numbers in detection files (2 or 3 decimals) take this path.
        private static func exactDecimal(_ text: UnsafeBufferPointer<UInt8>) -> Double? {
            var mantissa: UInt64 = 0, power = 0, j = 0
            func digit(_ k: Int) -> UInt64? {
                k < text.count && text[k] >= 48 && text[k] <= 57 ? UInt64(text[k] - 48) : nil
            }
            let limit: UInt64 = 1 << 53
            while let d = digit(j) {
                mantissa = mantissa * 10 + d
                guard mantissa <= limit else { return nil }
                j += 1
            }
            guard j > 0 else { return nil }
            if j < text.count, text[j] == UInt8(ascii: ".") {
                j += 1
                let fractionStart = j
                while let d = digit(j) {
                    mantissa = mantissa * 10 + d
                    guard mantissa <= limit else { return nil }
                    power -= 1
                    j += 1
                }
                guard j > fractionStart else { return nil }
            }
            if j < text.count, text[j] == UInt8(ascii: "e") || text[j] == UInt8(ascii: "E") {
                j += 1
                var negative = false
                if j < text.count, text[j] == UInt8(ascii: "+") || text[j] == UInt8(ascii: "-") {
                    negative = text[j] == UInt8(ascii: "-")
                    j += 1
                }
                let exponentStart = j
                var exponent = 0
                while let d = digit(j) {
                    exponent = exponent * 10 + Int(d)
                    guard exponent < 1000 else { return nil }
                    j += 1
                }
                guard j > exponentStart else { return nil }
                power += negative ? -exponent : exponent
            }
            guard j == text.count, (-22...22).contains(power) else { return nil }
            return power < 0 ? Double(mantissa) / exactPowersOfTen[-power] : Double(mantissa) * exactPowersOfTen[power]
        }

        private func isNumberByte(_ b: UInt8) -> Bool {
            (b >= 48 && b <= 57) || b == UInt8(ascii: ".") || b == UInt8(ascii: "e") || b == UInt8(ascii: "E")
                || b == UInt8(ascii: "+") || b == UInt8(ascii: "-")
        }

        mutating func fourNumbers() -> Box? {
            guard take(UInt8(ascii: "[")) else { return nil }
            var values = (0.0, 0.0, 0.0, 0.0)
            for k in 0..<4 {
                skipSpace()
                guard let v = number() else { return nil }
                switch k {
                case 0: values.0 = v
                case 1: values.1 = v
                case 2: values.2 = v
                default: values.3 = v
                }
                skipSpace()
                guard take(k == 3 ? UInt8(ascii: "]") : UInt8(ascii: ",")) else { return nil }
            }
            return Box(x: values.0, y: values.1, width: values.2, height: values.3)
        }

        /// Skips any JSON value (keys this reader does not use, such as `segmentation`).
        mutating func skipValue(depth: Int) -> Bool {
            guard depth < 64, i < bytes.count else { return false }
            switch bytes[i] {
            case UInt8(ascii: "\""):
                i += 1
                while i < bytes.count, bytes[i] != UInt8(ascii: "\"") { i += bytes[i] == UInt8(ascii: "\\") ? 2 : 1 }
                guard i < bytes.count else { return false }
                i += 1
                return true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                let object = bytes[i] == UInt8(ascii: "{"), close = object ? UInt8(ascii: "}") : UInt8(ascii: "]")
                i += 1
                skipSpace()
                if take(close) { return true }
                while true {
                    skipSpace()
                    if object {
                        guard skipValue(depth: depth + 1) else { return false }  // the key
                        skipSpace()
                        guard take(UInt8(ascii: ":")) else { return false }
                        skipSpace()
                    }
                    guard skipValue(depth: depth + 1) else { return false }
                    skipSpace()
                    if take(UInt8(ascii: ",")) { continue }
                    return take(close)
                }
            case UInt8(ascii: "t"): return literal("true")
            case UInt8(ascii: "f"): return literal("false")
            case UInt8(ascii: "n"): return literal("null")
            default: return number() != nil
            }
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard i + count <= bytes.count else { return false }
            for k in 0..<count where bytes[i + k] != word.utf8Start[k] { return false }
            i += count
            return true
        }
    }
}
