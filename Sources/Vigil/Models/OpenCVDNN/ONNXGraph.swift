import Foundation

/// What an ONNX file declares about itself: its inputs and outputs with element types and
/// shapes (static sizes and symbolic names), opsets, producer, metadata and operators. OpenCV 4.6
/// does not report a graph's declared input shape (a network with global pooling runs at any
/// size), so Vigil reads it here to refuse a spec whose input size the graph does not take.
///
/// A reader of the protobuf wire format for the few fields of `onnx.proto` it needs
/// (ModelProto 2, 3, 7, 8, 14; GraphProto 1, 5, 11, 12; NodeProto 2, 4; ValueInfoProto 1, 2;
/// TypeProto.Tensor 1, 2; TensorShapeProto.Dimension 1, 2; TensorProto 8): everything else,
/// the weights included, is skipped without being decoded.
public struct ONNXGraph: Sendable, Hashable {
    public enum Dimension: Sendable, Hashable, CustomStringConvertible {
        case fixed(Int)
        case symbolic(String)
        case unknown

        public var size: Int? { if case .fixed(let n) = self, n > 0 { n } else { nil } }

        public var description: String {
            switch self {
            case .fixed(let n): "\(n)"
            case .symbolic(let name): name.isEmpty ? "?" : name
            case .unknown: "?"
            }
        }
    }

    public struct Tensor: Sendable, Hashable {
        public var name: String
        /// ONNX's element type name (`float`, `uint8`, …).
        public var elementType: String
        /// nil when the graph declares no shape.
        public var shape: [Dimension]?
    }

    public var inputs: [Tensor]
    public var outputs: [Tensor]
    public var producer: String
    /// Opset versions by domain ("" is the default ai.onnx domain).
    public var opsets: [String: Int]
    public var metadata: [String: String]
    /// Operator types in node order.
    public var operators: [String]
    /// For each graph output, the operator that produces it (e.g. `Softmax`).
    public var producingOperators: [String: String]

    public static func read(_ url: URL) throws -> ONNXGraph {
        let data = try Data(contentsOf: url, options: .alwaysMapped)
        return try data.withUnsafeBytes { raw in
            try parseModel(ProtobufReader(raw[...]))
        }
    }

    struct FormatError: Error {}

    private static func parseModel(_ model: ProtobufReader) throws -> ONNXGraph {
        var graph = ONNXGraph(inputs: [], outputs: [], producer: "", opsets: [:], metadata: [:], operators: [], producingOperators: [:])
        var graphBytes: ProtobufReader?
        var producerName = "", producerVersion = ""
        try model.fields { field in
            switch field.number {
            case 2: producerName = try field.string()
            case 3: producerVersion = try field.string()
            case 7: graphBytes = try field.message()
            case 8:
                var domain = "", version = 0
                try field.message().fields { f in
                    if f.number == 1 { domain = try f.string() }
                    if f.number == 2 { version = try f.int() }
                }
                graph.opsets[domain] = version
            case 14:
                var key = "", value = ""
                try field.message().fields { f in
                    if f.number == 1 { key = try f.string() }
                    if f.number == 2 { value = try f.string() }
                }
                graph.metadata[key] = value
            default: break
            }
        }
        graph.producer = [producerName, producerVersion].filter { !$0.isEmpty }.joined(separator: " ")
        guard let graphBytes else { throw FormatError() }
        var initializers = Set<String>()
        var declaredInputs: [Tensor] = []
        var producers: [String: String] = [:]
        try graphBytes.fields { field in
            switch field.number {
            case 1:
                var op = "", outputs: [String] = []
                try field.message().fields { f in
                    if f.number == 2 { outputs.append(try f.string()) }
                    if f.number == 4 { op = try f.string() }
                }
                graph.operators.append(op)
                for output in outputs { producers[output] = op }
            case 5:
                try field.message().fields { f in if f.number == 8 { initializers.insert(try f.string()) } }
            case 11: declaredInputs.append(try parseValueInfo(field.message()))
            case 12: graph.outputs.append(try parseValueInfo(field.message()))
            default: break
            }
        }
        // Older exporters list the weights among the inputs as well.
        graph.inputs = declaredInputs.filter { !initializers.contains($0.name) }
        graph.producingOperators = Dictionary(uniqueKeysWithValues: graph.outputs.compactMap { output in
            producers[output.name].map { (output.name, $0) }
        })
        return graph
    }

    private static func parseValueInfo(_ message: ProtobufReader) throws -> Tensor {
        var tensor = Tensor(name: "", elementType: "?", shape: nil)
        try message.fields { field in
            switch field.number {
            case 1: tensor.name = try field.string()
            case 2:
                try field.message().fields { type in
                    guard type.number == 1 else { return }  // tensor_type
                    try type.message().fields { t in
                        if t.number == 1 {
                            let code = try t.int()
                            tensor.elementType = elementTypes[code] ?? "type \(code)"
                        }
                        if t.number == 2 {
                            var dims: [Dimension] = []
                            try t.message().fields { d in
                                guard d.number == 1 else { return }
                                var dim = Dimension.unknown
                                try d.message().fields { v in
                                    if v.number == 1 { dim = .fixed(try v.int()) }
                                    if v.number == 2 { dim = .symbolic(try v.string()) }
                                }
                                dims.append(dim)
                            }
                            tensor.shape = dims
                        }
                    }
                }
            default: break
            }
        }
        return tensor
    }

    static let elementTypes: [Int: String] = [
        1: "float", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64", 8: "string",
        9: "bool", 10: "float16", 11: "double", 12: "uint32", 13: "uint64", 16: "bfloat16",
    ]
}

extension ONNXGraph.Tensor {
    /// `x: float [N, 3, 224, 224]`.
    public var summary: String {
        "\(name): \(elementType) " + (shape.map { "[" + $0.map(\.description).joined(separator: ", ") + "]" } ?? "(no declared shape)")
    }
}

/// Fields of one protobuf message, read from its bytes without copying.
struct ProtobufReader {
    let bytes: Slice<UnsafeRawBufferPointer>

    init(_ bytes: Slice<UnsafeRawBufferPointer>) {
        self.bytes = bytes
    }

    struct Field {
        let number: Int
        let wireType: Int
        /// The varint's value (wire type 0).
        let varint: UInt64
        /// The payload of a length-delimited field (wire type 2).
        let payload: Slice<UnsafeRawBufferPointer>

        func int() throws -> Int {
            guard wireType == 0 else { throw ONNXGraph.FormatError() }
            return Int(truncatingIfNeeded: varint)
        }

        func string() throws -> String {
            guard wireType == 2 else { throw ONNXGraph.FormatError() }
            return String(decoding: payload, as: UTF8.self)
        }

        func message() throws -> ProtobufReader {
            guard wireType == 2 else { throw ONNXGraph.FormatError() }
            return ProtobufReader(payload)
        }
    }

    func fields(_ body: (Field) throws -> Void) throws {
        var index = bytes.startIndex
        let end = bytes.endIndex
        func varint() throws -> UInt64 {
            var value: UInt64 = 0, shift: UInt64 = 0
            while true {
                guard index < end, shift < 64 else { throw ONNXGraph.FormatError() }
                let byte = bytes[index]
                index += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte < 0x80 { return value }
                shift += 7
            }
        }
        while index < end {
            let key = try varint()
            let number = Int(key >> 3), wireType = Int(key & 7)
            switch wireType {
            case 0:
                try body(Field(number: number, wireType: 0, varint: try varint(), payload: bytes[index..<index]))
            case 1, 5:
                let size = wireType == 1 ? 8 : 4
                guard end - index >= size else { throw ONNXGraph.FormatError() }
                index += size
            case 2:
                let length = try varint()
                guard length <= UInt64(end - index) else { throw ONNXGraph.FormatError() }
                let payload = bytes[index..<(index + Int(length))]
                index += Int(length)
                try body(Field(number: number, wireType: 2, varint: 0, payload: payload))
            default:
                throw ONNXGraph.FormatError()
            }
        }
    }
}
