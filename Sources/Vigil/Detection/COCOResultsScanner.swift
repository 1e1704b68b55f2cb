import Foundation

/// A reader for exactly the shape of a COCO results file — a JSON array of objects with integer
/// `image_id` and `category_id`, a `bbox` of four numbers and a numeric `score` (other keys are
/// skipped) — written because Foundation's JSONDecoder took half of `vigil score detection`'s
/// time on a 28 MB file (its generic containers, key lookups and per-value boxing). Numbers are
/// converted by `strtod`, which rounds correctly, as Foundation does, so the values are the
/// same bits. Anything else (a missing or repeated key, a value of another type, a syntax error,
/// NaN) makes it return nil, and the caller decodes with JSONDecoder, whose messages say what is
/// wrong.
enum COCOResultsScanner {
    /// The detections of `bytes`, one top-level array or a run of its elements (a part that
    /// `JSONInput.arrayElementRanges` cut, without the brackets).
    static func scan(_ bytes: UnsafeBufferPointer<UInt8>, bracketed: Bool) -> [COCODetection]? {
        var reader = Reader(bytes: bytes)
        var detections: [COCODetection] = []
        detections.reserveCapacity(bytes.count / 90)
        reader.skipSpace()
        if bracketed {
            guard reader.take(UInt8(ascii: "[")) else { return nil }
            reader.skipSpace()
            if reader.take(UInt8(ascii: "]")) { return reader.atEnd() ? [] : nil }
        } else if reader.atEnd() {
            return nil  // a part of a non-empty array is never empty (a trailing comma would be)
        }
        while true {
            guard let detection = reader.detection() else { return nil }
            detections.append(detection)
            reader.skipSpace()
            if reader.take(UInt8(ascii: ",")) {
                reader.skipSpace()
                continue
            }
            if bracketed {
                guard reader.take(UInt8(ascii: "]")) else { return nil }
            }
            return reader.atEnd() ? detections : nil
        }
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

        /// One `{…}` with the four keys, in any order.
        mutating func detection() -> COCODetection? {
            guard take(UInt8(ascii: "{")) else { return nil }
            var imageID: Int?, categoryID: Int?, score: Double?, box: Box?
            skipSpace()
            if take(UInt8(ascii: "}")) { return nil }
            while true {
                skipSpace()
                guard let key = keyName() else { return nil }
                skipSpace()
                guard take(UInt8(ascii: ":")) else { return nil }
                skipSpace()
                switch key {
                case .imageID:
                    guard imageID == nil, let v = integer() else { return nil }
                    imageID = v
                case .categoryID:
                    guard categoryID == nil, let v = integer() else { return nil }
                    categoryID = v
                case .score:
                    guard score == nil, let v = number() else { return nil }
                    score = v
                case .bbox:
                    guard box == nil, let v = fourNumbers() else { return nil }
                    box = v
                case .other:
                    guard skipValue(depth: 0) else { return nil }
                }
                skipSpace()
                if take(UInt8(ascii: ",")) { continue }
                guard take(UInt8(ascii: "}")) else { return nil }
                break
            }
            guard let imageID, let categoryID, let score, let box else { return nil }
            return COCODetection(imageID: imageID, categoryID: categoryID, bbox: box, score: score)
        }

        enum Key { case imageID, categoryID, bbox, score, other }

        /// A key string; escapes are not expected in these names, so a key with one is "other"
        /// only if it is not one of ours (compared after skipping it).
        mutating func keyName() -> Key? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = i
            while i < bytes.count, bytes[i] != UInt8(ascii: "\"") {
                if bytes[i] == UInt8(ascii: "\\") { return nil }  // rare: let JSONDecoder handle it
                i += 1
            }
            guard i < bytes.count else { return nil }
            let name = UnsafeBufferPointer(rebasing: bytes[start..<i])
            i += 1
            func named(_ word: StaticString) -> Bool {
                name.count == word.utf8CodeUnitCount && (0..<name.count).allSatisfy { name[$0] == word.utf8Start[$0] }
            }
            if named("image_id") { return .imageID }
            if named("category_id") { return .categoryID }
            if named("bbox") { return .bbox }
            if named("score") { return .score }
            return .other
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
