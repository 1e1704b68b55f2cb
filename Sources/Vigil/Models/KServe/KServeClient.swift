import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The Open Inference Protocol (KServe v2) over HTTP/REST, as Triton, KServe, Seldon MLServer,
/// TorchServe (KServe mode) and OpenVINO Model Server speak it: model metadata and readiness,
/// and inference with the binary tensor data extension (raw little-endian tensors after a JSON
/// header whose length the `Inference-Header-Content-Length` header gives) or plain JSON.
///
/// Failures are one-line `InputError`s naming the server and the model. Connection errors,
/// timeouts and 5xx answers (but 501) are retried with exponential backoff.
struct KServeClient: Sendable {
    let baseURL: String
    let model: String
    let version: String?
    let timeout: TimeAmount
    let retries: Int
    /// Names the model in messages: `http://host:port model 'name'`.
    var shown: String { "\(baseURL) model '\(model)'" + (version.map { " version \($0)" } ?? "") }

    /// `/v2/models/NAME[/versions/V]`.
    var modelPath: String {
        "/v2/models/\(Self.escape(model))" + (version.map { "/versions/\(Self.escape($0))" } ?? "")
    }

    static func escape(_ segment: String) -> String {
        segment.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? segment
    }

    // MARK: - Messages

    struct TensorMetadata: Codable, Sendable, Hashable {
        var name: String
        var datatype: String
        var shape: [Int]
    }

    struct ModelMetadata: Codable, Sendable, Hashable {
        var name: String
        var versions: [String]?
        var platform: String?
        var inputs: [TensorMetadata]?
        var outputs: [TensorMetadata]?
    }

    struct InferInput: Encodable {
        var name: String
        var shape: [Int]
        var datatype: String
        var parameters: [String: Int]?
        var data: [Float]?
    }

    struct RequestedOutput: Encodable {
        var name: String
        var parameters: [String: Bool]?
    }

    struct InferRequest: Encodable {
        var id: String
        var inputs: [InferInput]
        var outputs: [RequestedOutput]
    }

    struct InferOutput: Decodable {
        var name: String
        var shape: [Int]
        var datatype: String
        var parameters: [String: JSONScalar]?
        var data: NumberArray?
    }

    struct InferResponse: Decodable {
        var outputs: [InferOutput]
    }

    /// A parameter value: the protocol allows strings, numbers and booleans.
    enum JSONScalar: Decodable {
        case number(Double), text(String), flag(Bool)

        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let n = try? c.decode(Double.self) { self = .number(n) } else if let b = try? c.decode(Bool.self) {
                self = .flag(b)
            } else { self = .text(try c.decode(String.self)) }
        }

        var int: Int? { if case .number(let n) = self { Int(exactly: n) } else { nil } }
    }

    /// `data` of a JSON output: flat, or nested row by row (both are allowed).
    struct NumberArray: Decodable {
        var values: [Double]

        init(from decoder: any Decoder) throws {
            var container = try decoder.unkeyedContainer()
            var values: [Double] = []
            while !container.isAtEnd {
                if let value = try? container.decode(Double.self) {
                    values.append(value)
                } else {
                    values += try container.decode(NumberArray.self).values
                }
            }
            self.values = values
        }
    }

    /// One output tensor as received, converted to float.
    struct Tensor: Sendable {
        var name: String
        var shape: [Int]
        var values: [Float]
    }

    // MARK: - Calls

    /// The model's metadata; refuses an unreachable server, an unknown model and a model that
    /// is not ready, each with a line saying what to do.
    func metadata() async throws -> ModelMetadata {
        let (status, body, _) = try await send(method: .GET, path: modelPath)
        switch status {
        case 200: break
        case 404:
            var known = ""
            if version == nil, let (listStatus, listBody, _) = try? await send(method: .GET, path: "/v2/models"), listStatus == 200,
               let list = try? JSONDecoder().decode([String: [String]].self, from: listBody), let models = list["models"] {
                known = " (it serves: \(models.sorted().joined(separator: ", ")))"
            }
            throw InputError("\(shown): the server has no such model\(known); check 'model'\(version == nil ? "" : " and 'model_version'") in the spec")
        default:
            throw InputError("\(shown): metadata request answered \(status): \(Self.errorText(body))")
        }
        let metadata: ModelMetadata
        do {
            metadata = try JSONDecoder().decode(ModelMetadata.self, from: body)
        } catch {
            throw InputError("\(shown): the model metadata is not Open Inference Protocol JSON (\(error))")
        }
        let (readyStatus, readyBody, _) = try await send(method: .GET, path: modelPath + "/ready")
        guard readyStatus == 200 else {
            throw InputError("\(shown): the model is not ready (\(readyStatus): \(Self.errorText(readyBody))); wait for the server to load it")
        }
        return metadata
    }

    /// One inference: `input` is `shape` floats. Requests `outputs` (all when empty, for servers
    /// that need no names) in binary or as JSON.
    func infer(input name: String, shape: [Int], values: [Float], outputs: [String], binary: Bool) async throws -> [Tensor] {
        let count = values.count
        var request = InferRequest(id: UUID().uuidString, inputs: [], outputs: outputs.map {
            RequestedOutput(name: $0, parameters: binary ? ["binary_data": true] : nil)
        })
        var body: [UInt8]
        var headers: [(String, String)]
        if binary {
            request.inputs = [InferInput(name: name, shape: shape, datatype: "FP32", parameters: ["binary_data_size": count * 4], data: nil)]
            let header = try JSONEncoder().encode(request)
            body = [UInt8](header)
            body.reserveCapacity(header.count + count * 4)
            values.withUnsafeBytes { raw in
                if Int(littleEndian: 1) == 1 { body.append(contentsOf: raw) } else {
                    for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { body.append(contentsOf: $0) } }
                }
            }
            headers = [("Content-Type", "application/octet-stream"), ("Inference-Header-Content-Length", "\(header.count)")]
        } else {
            request.inputs = [InferInput(name: name, shape: shape, datatype: "FP32", parameters: nil, data: values)]
            body = [UInt8](try JSONEncoder().encode(request))
            headers = [("Content-Type", "application/json")]
        }
        let (status, response, responseHeaders) = try await send(method: .POST, path: modelPath + "/infer", body: body, headers: headers)
        guard status == 200 else {
            throw InferenceRefused(status: status, message: Self.errorText(response))
        }
        return try decode(response, headerLength: responseHeaders.first(name: "inference-header-content-length").flatMap(Int.init))
    }

    /// A 4xx answer to an inference: the request is wrong, retrying cannot help.
    struct InferenceRefused: Error {
        var status: Int
        var message: String
    }

    func decode(_ data: Data, headerLength: Int?) throws -> [Tensor] {
        let jsonEnd = headerLength ?? data.count
        guard jsonEnd <= data.count else {
            throw InputError("\(shown): the response is \(data.count) bytes, shorter than its \(jsonEnd)-byte JSON header")
        }
        let response: InferResponse
        do {
            response = try JSONDecoder().decode(InferResponse.self, from: data.prefix(jsonEnd))
        } catch {
            throw InputError("\(shown): the inference response is not Open Inference Protocol JSON (\(error))")
        }
        var offset = jsonEnd
        return try response.outputs.map { output in
            let count = output.shape.reduce(1, *)
            if let size = output.parameters?["binary_data_size"]?.int {
                guard offset + size <= data.count else {
                    throw InputError("\(shown): output '\(output.name)' needs \(size) bytes of binary data, the response has \(data.count - offset) left")
                }
                let values = try Self.floats(data[(data.startIndex + offset)..<(data.startIndex + offset + size)], datatype: output.datatype,
                                             count: count, what: "\(shown): output '\(output.name)'")
                offset += size
                return Tensor(name: output.name, shape: output.shape, values: values)
            }
            guard let numbers = output.data?.values else {
                throw InputError("\(shown): output '\(output.name)' has neither data nor binary_data_size")
            }
            guard numbers.count == count else {
                throw InputError("\(shown): output '\(output.name)' has \(numbers.count) values for shape \(output.shape)")
            }
            return Tensor(name: output.name, shape: output.shape, values: numbers.map { Float($0) })
        }
    }

    /// Raw little-endian tensor bytes as floats (FP32, FP64, FP16).
    static func floats(_ bytes: Data, datatype: String, count: Int, what: String) throws -> [Float] {
        let width = ["FP32": 4, "FP64": 8, "FP16": 2][datatype]
        guard let width else { throw InputError("\(what) is \(datatype); Vigil reads FP32, FP64 and FP16 outputs") }
        guard bytes.count == count * width else {
            throw InputError("\(what): \(bytes.count) bytes for \(count) \(datatype) values")
        }
        return bytes.withUnsafeBytes { raw in
            (0..<count).map { i in
                switch width {
                case 4: Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
                case 8: Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))))
                default: Float(Float16(bitPattern: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))))
                }
            }
        }
    }

    /// The server's error text: `{"error": "…"}` (the protocol) or `{"detail": …}` (FastAPI).
    static func errorText(_ body: Data) -> String {
        if let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] {
            if let error = object["error"] as? String { return error }
            if let detail = object["detail"] { return "\(detail)" }
        }
        let text = String(decoding: body.prefix(300), as: UTF8.self).replacingOccurrences(of: "\n", with: " ")
        return text.isEmpty ? "(no message)" : text
    }

    /// One HTTP exchange with retries: connection errors, timeouts and 5xx answers (but 501,
    /// "not implemented") are tried again `retries` times, waiting 0.25 s, 0.5 s, 1 s, … between.
    func send(method: HTTPMethod, path: String, body: [UInt8]? = nil,
              headers: [(String, String)] = []) async throws -> (status: Int, body: Data, headers: HTTPHeaders) {
        var attempt = 0
        while true {
            do {
                var request = HTTPClientRequest(url: baseURL + path)
                request.method = method
                for (name, value) in headers { request.headers.add(name: name, value: value) }
                if let body { request.body = .bytes(body) }
                let response = try await HTTPClient.shared.execute(request, timeout: timeout)
                let buffer = try await response.body.collect(upTo: 1 << 31 - 1)
                let status = Int(response.status.code)
                if status >= 500, status != 501, attempt < retries {
                    attempt += 1
                    try await Self.backoff(attempt)
                    continue
                }
                return (status, Data(buffer.readableBytesView), response.headers)
            } catch let error as CancellationError {
                throw error
            } catch {
                guard attempt < retries else {
                    throw InputError("\(shown): cannot reach the model server (\(Self.describe(error)); \(attempt + 1) attempt\(attempt == 0 ? "" : "s")); "
                                     + "start it, or fix 'url' in the spec")
                }
                attempt += 1
                try await Self.backoff(attempt)
            }
        }
    }

    static func backoff(_ attempt: Int) async throws {
        try await Task.sleep(nanoseconds: UInt64(250_000_000) << UInt64(min(attempt - 1, 6)))
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            if error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout { return "timed out" }
            return "\(error)"
        }
        let text = "\(error)"
        if text.contains("connection refused") || text.contains("Connection refused") { return "connection refused" }
        return text
    }
}
