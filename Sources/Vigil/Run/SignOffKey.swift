import Crypto
import Foundation

/// An Ed25519 key for signing sign-offs, in the PEM files OpenSSL reads and writes
/// (`openssl pkey -in KEY -pubout` prints the public file Vigil writes beside it):
/// the private key as PKCS #8 (`BEGIN PRIVATE KEY`), the public key as SubjectPublicKeyInfo
/// (`BEGIN PUBLIC KEY`).
public struct SignOffKey: Sendable {
    /// The private key's 32 bytes (Crypto's key type is not Sendable; it is made when used).
    let raw: Data
    var key: Curve25519.Signing.PrivateKey { try! Curve25519.Signing.PrivateKey(rawRepresentation: raw) }

    /// DER before the 32 key bytes: PKCS #8 with the Ed25519 OID (1.3.101.112), and SPKI.
    static let privatePrefix: [UInt8] = [0x30, 0x2E, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]
    static let publicPrefix: [UInt8] = [0x30, 0x2A, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x03, 0x21, 0x00]

    /// Makes a new key and writes it to `url` (readable by its owner only) and its public half
    /// to `url` + `.pub`. Refuses to overwrite either.
    public static func create(at url: URL) throws -> SignOffKey {
        let publicURL = URL(fileURLWithPath: url.path + ".pub")
        for existing in [url, publicURL] where FileManager.default.fileExists(atPath: existing.path) {
            throw InputError("\(DisplayPath.of(existing)): already exists; a key is never overwritten (choose another name, or remove it)")
        }
        let key = SignOffKey(key: Curve25519.Signing.PrivateKey())
        let privatePEM = pem("PRIVATE KEY", privatePrefix + [UInt8](key.key.rawRepresentation))
        do {
            guard FileManager.default.createFile(atPath: url.path, contents: Data(privatePEM.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw InputError("\(DisplayPath.of(url)): cannot write the key file")
            }
            try Data(pem("PUBLIC KEY", publicPrefix + [UInt8](key.key.publicKey.rawRepresentation)).utf8).write(to: publicURL)
        } catch let error as InputError {
            throw error
        } catch {
            throw InputError("\(DisplayPath.of(publicURL)): cannot write the public key (\(FileProblem.describe(error)))")
        }
        return key
    }

    /// Reads a private key file written by `create` (or by `openssl genpkey -algorithm ed25519`).
    public init(contentsOf url: URL) throws {
        raw = Data(try Self.der(url, label: "PRIVATE KEY", prefix: Self.privatePrefix))
    }

    init(key: Curve25519.Signing.PrivateKey) {
        raw = key.rawRepresentation
    }

    /// The public key's 32 bytes, base64 (as sign-off records store it).
    public var publicKey: String { key.publicKey.rawRepresentation.base64EncodedString() }

    /// An Ed25519 signature of `text`'s UTF-8 bytes, base64.
    public func sign(_ text: String) throws -> String {
        try key.signature(for: Data(text.utf8)).base64EncodedString()
    }

    /// Whether `signature` (base64) is `publicKey`'s (base64) signature of `text`.
    public static func isValid(signature: String, of text: String, publicKey: String) -> Bool {
        guard let raw = Data(base64Encoded: publicKey), let bytes = Data(base64Encoded: signature),
              let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else { return false }
        return key.isValidSignature(bytes, for: Data(text.utf8))
    }

    /// A public key file's 32 bytes, base64.
    public static func publicKey(contentsOf url: URL) throws -> String {
        Data(try der(url, label: "PUBLIC KEY", prefix: publicPrefix)).base64EncodedString()
    }

    /// `SHA256:` and the first 16 hex digits of the public key's sha256, to name a key in messages.
    public static func fingerprint(_ publicKey: String) -> String {
        "SHA256:" + SHA256.hex(of: Data(base64Encoded: publicKey) ?? Data(publicKey.utf8)).prefix(16)
    }

    static func pem(_ label: String, _ der: [UInt8]) -> String {
        "-----BEGIN \(label)-----\n" + Data(der).base64EncodedString() + "\n-----END \(label)-----\n"
    }

    static func der(_ url: URL, label: String, prefix: [UInt8]) throws -> [UInt8] {
        let shown = DisplayPath.of(url)
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw InputError("\(shown): cannot read the key file (\(FileProblem.describe(error)))")
        }
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let begin = lines.firstIndex(of: "-----BEGIN \(label)-----"), let end = lines.firstIndex(of: "-----END \(label)-----"), begin < end,
              let der = Data(base64Encoded: lines[(begin + 1)..<end].joined()) else {
            throw InputError("\(shown): not a PEM file with a '\(label)' block (`vigil signoff key create FILE` writes one)")
        }
        let bytes = [UInt8](der)
        guard bytes.count == prefix.count + 32, Array(bytes.prefix(prefix.count)) == prefix else {
            throw InputError("\(shown): the \(label.lowercased()) is not an Ed25519 key (sign-offs use Ed25519)")
        }
        return Array(bytes.dropFirst(prefix.count))
    }
}
