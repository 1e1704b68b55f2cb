import CLibCrypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// SHA-256 digests (OpenSSL's libcrypto), as lowercase hex.
public enum SHA256 {
    /// Digest of a file's bytes, read in chunks so large model files need little memory. One
    /// `open` and plain `read`s, nothing else: verifying a golden set touches each file once.
    ///
    /// With `folder` (a real path, symbolic links resolved), the file actually opened must lie
    /// inside it: a symbolic link (to the file, or to a folder on its path) that leads out is
    /// refused with `LeavesFolder` before a byte is read. On Linux the check costs one
    /// `readlink` of the open descriptor, not a `stat` per path component.
    ///
    /// With `inspect`, the file's whole bytes are also handed to it (read once, for both).
    public static func hex(ofFile url: URL, inside folder: String? = nil,
                           inspecting inspect: ((UnsafeRawBufferPointer) throws -> Void)? = nil) throws -> String {
        let descriptor = open(url.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw InputError("\(url.path): cannot be read (\(String(cString: strerror(errno))))")
        }
        defer { close(descriptor) }
        if let folder {
            let opened = realPath(of: descriptor) ?? url.resolvingSymlinksInPath().path
            guard opened.hasPrefix(folder.hasSuffix("/") ? folder : folder + "/") else { throw LeavesFolder(target: opened) }
        }
        let context = Context()
        let capacity = 1 << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        defer { buffer.deallocate() }
        var whole: [UInt8] = []
        while true {
            let count = read(descriptor, buffer, capacity)
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw InputError("\(url.path): cannot be read (\(String(cString: strerror(errno))))")
            }
            context.update(buffer, count: count)
            if inspect != nil { whole.append(contentsOf: UnsafeRawBufferPointer(start: buffer, count: count)) }
        }
        let digest = context.finish()
        try whole.withUnsafeBytes { try inspect?($0) }
        return digest
    }

    /// A file whose real path is outside the folder it was listed in.
    public struct LeavesFolder: Error {
        public var target: String
    }

    /// The path the kernel opened for `descriptor` (Linux's /proc/self/fd); nil elsewhere.
    static func realPath(of descriptor: Int32) -> String? {
        #if os(Linux)
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/fd/\(descriptor)", &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        #else
        return nil
        #endif
    }

    public static func hex(of data: Data) -> String {
        let context = Context()
        context.update(data)
        return context.finish()
    }

    public static func hex(of string: String) -> String {
        hex(of: Data(string.utf8))
    }

    private final class Context {
        let pointer: OpaquePointer

        init() {
            pointer = EVP_MD_CTX_new()
            EVP_DigestInit_ex(pointer, EVP_sha256(), nil)
        }

        deinit { EVP_MD_CTX_free(pointer) }

        func update(_ data: Data) {
            data.withUnsafeBytes { buffer in
                _ = EVP_DigestUpdate(pointer, buffer.baseAddress, buffer.count)
            }
        }

        func update(_ bytes: UnsafeRawPointer, count: Int) {
            _ = EVP_DigestUpdate(pointer, bytes, count)
        }

        func finish() -> String {
            var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
            var length: UInt32 = 0
            EVP_DigestFinal_ex(pointer, &digest, &length)
            return digest.prefix(Int(length)).map { byte in
                let hex = String(byte, radix: 16)
                return byte < 16 ? "0" + hex : hex
            }.joined()
        }
    }
}
