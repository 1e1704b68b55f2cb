import Foundation
import Testing
import Vigil

// Helpers shared by the test targets.

/// Paths inside the repository, found from this file's location.
public enum Repository {
    public static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }

    public static func fixture(_ name: String) -> URL { url("Tests/VigilTests/Fixtures/\(name)") }
}

/// A fresh temporary folder per call, removed by the caller via `defer`.
public func temporaryFolder(_ label: String = "vigil-test") throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Expects `body` to throw an `InputError` and returns its message.
public func inputError(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> String {
    do {
        try body()
        Issue.record("expected an InputError, nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as InputError {
        return error.message
    } catch {
        Issue.record("expected an InputError, got \(error)", sourceLocation: sourceLocation)
    }
    return ""
}

/// `inputError` for asynchronous work (backends that are made or run asynchronously).
public func asyncInputError(_ body: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) async -> String {
    do {
        try await body()
        Issue.record("expected an InputError, nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as InputError {
        return error.message
    } catch {
        Issue.record("expected an InputError, got \(error)", sourceLocation: sourceLocation)
    }
    return ""
}

/// Any JSON value, decoded with JSONDecoder: its numbers are correctly rounded, unlike
/// JSONSerialization's on Linux, which can be a few ulps off.
public enum JSONValue: Codable, Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let value = try? c.decode(Bool.self) { self = .bool(value) }
        else if let value = try? c.decode(Double.self) { self = .number(value) }
        else if let value = try? c.decode(String.self) { self = .string(value) }
        else if let value = try? c.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let value): try c.encode(value)
        case .number(let value):
            if value == value.rounded(), abs(value) < 1e15 { try c.encode(Int(value)) } else { try c.encode(value) }
        case .string(let value): try c.encode(value)
        case .array(let value): try c.encode(value)
        case .object(let value): try c.encode(value)
        }
    }

    public static func load(_ url: URL) -> JSONValue {
        try! JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: url))
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let fields) = self { return fields[key] }
        return nil
    }

    public var array: [JSONValue] {
        if case .array(let values) = self { return values }
        return []
    }

    public var double: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    public var int: Int? { double.map { Int($0) } }
    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var isNull: Bool { self == .null }
    public var doubles: [Double] { array.compactMap(\.double) }
    public var ints: [Int] { array.compactMap(\.int) }

    public func data() throws -> Data { try JSONEncoder().encode(self) }
}

extension RunResult {
    /// A classification run's outcomes of one model on one scenario (empty otherwise).
    public func classificationOutcomes(_ scenario: Scenario, _ role: ModelRole) -> [Outcome] {
        outcomes(scenario, role)?.classification ?? []
    }
}
