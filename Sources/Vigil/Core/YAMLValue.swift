import Foundation
import Yams

/// A YAML node that remembers its file, so every error can name the file and line.
///
/// Suite files and model specs are read through this type instead of `Decodable`: decoding
/// would silently ignore a misspelt key, and its errors do not carry line numbers.
struct YAMLValue {
    let node: Node
    let file: String

    /// Parses a whole file. Syntax errors become one line naming the file and position.
    static func load(_ url: URL, displayPath: String) throws -> YAMLValue {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw InputError("\(displayPath): cannot be read (missing file or not UTF-8 text)")
        }
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw InputError("\(displayPath): the file is empty")
            }
            return YAMLValue(node: node, file: displayPath)
        } catch let error as YamlError {
            throw InputError("\(displayPath): \(Self.describe(error))")
        }
    }

    private static func describe(_ error: YamlError) -> String {
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            let what = [context?.text, problem].compactMap { $0 }.joined(separator: " ")
            return "line \(mark.line): YAML syntax error: \(what)"
        case let .duplicatedKeysInMapping(duplicates, context):
            return "line \(context.mark.line): key '\(duplicates.joined(separator: "', '"))' appears twice"
        case let .reader(problem, offset, _, yaml):
            // The offset counts bytes; the line is what a person looks for.
            let line = offset.map { offset in 1 + yaml.utf8.prefix(offset).filter { $0 == UInt8(ascii: "\n") }.count }
            return (line.map { "line \($0): " } ?? "") + "not readable as YAML: \(problem)"
        case .dataCouldNotBeDecoded:
            return "not readable as YAML: the file is not UTF-8 text"
        default:
            // Yams' descriptions quote the offending line on further lines: keep the first.
            return "YAML error: " + ("\(error)".split(separator: "\n").first.map(String.init) ?? "")
        }
    }

    var line: Int { node.mark?.line ?? 0 }

    func error(_ message: String) -> InputError {
        InputError("\(file):\(line): \(message)")
    }

    /// The mapping's entries; `keys` lists the allowed keys (nil: any text key).
    func mapping(_ what: String, allowed keys: [String]?) throws -> YAMLMapping {
        guard case let .mapping(mapping) = node else {
            throw error("\(what) must be a mapping of keys to values")
        }
        var entries: [(String, YAMLValue)] = []
        for (keyNode, valueNode) in mapping {
            let key = YAMLValue(node: keyNode, file: file)
            guard let name = keyNode.string else { throw key.error("keys in \(what) must be text") }
            if let keys, !keys.contains(name) {
                throw key.error("unknown key '\(name)' in \(what)" + Suggestion.hint(for: name, in: keys))
            }
            entries.append((name, YAMLValue(node: valueNode, file: file)))
        }
        return YAMLMapping(owner: self, what: what, entries: entries)
    }

    func sequence(_ what: String) throws -> [YAMLValue] {
        guard case let .sequence(sequence) = node else { throw error("\(what) must be a list") }
        return sequence.map { YAMLValue(node: $0, file: file) }
    }

    func string(_ what: String) throws -> String {
        guard case let .scalar(scalar) = node else { throw error("\(what) must be a single value") }
        return scalar.string
    }

    func int(_ what: String, in range: ClosedRange<Int>? = nil) throws -> Int {
        guard case .scalar = node, let value = node.int else { throw error("\(what) must be a whole number") }
        if let range, !range.contains(value) {
            throw error("\(what) must be in \(range.lowerBound)...\(range.upperBound), got \(value)")
        }
        return value
    }

    func double(_ what: String) throws -> Double {
        guard case .scalar = node, let value = node.float, value.isFinite else {
            throw error("\(what) must be a number")
        }
        return value
    }

    func doubles(_ what: String) throws -> [Double] {
        try sequence(what).map { try $0.double("each value of \(what)") }
    }

    func strings(_ what: String) throws -> [String] {
        try sequence(what).map { try $0.string("each value of \(what)") }
    }

    /// One of `choices` (case-sensitive), with a suggestion when misspelt.
    func choice(_ what: String, from choices: [String]) throws -> String {
        let value = try string(what)
        guard choices.contains(value) else {
            throw error("\(what) '\(value)' is not valid" + Suggestion.hint(for: value, in: choices))
        }
        return value
    }
}

/// The entries of a YAML mapping whose keys have already been checked against a list.
struct YAMLMapping {
    let owner: YAMLValue
    let what: String
    let entries: [(key: String, value: YAMLValue)]

    subscript(key: String) -> YAMLValue? {
        entries.first(where: { $0.key == key })?.value
    }

    func required(_ key: String) throws -> YAMLValue {
        guard let value = self[key] else { throw owner.error("\(what) is missing '\(key)'") }
        return value
    }
}
