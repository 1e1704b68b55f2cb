import Foundation

/// A file-system error as a few words for one-line messages, in place of Foundation's text
/// ("The operation could not be completed. (NSCocoaErrorDomain error 512.)", or the whole
/// `Error Domain=NSCocoaErrorDomain Code=516 … UserInfo={…}` dump).
public enum FileProblem {
    public static func describe(_ error: any Error) -> String {
        let error = error as NSError
        if error.domain == NSPOSIXErrorDomain { return posix(Int32(error.code)) }
        if let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return posix(Int32(underlying.code))
        }
        let path = error.userInfo[NSFilePathErrorKey] as? String
        if let path, let file = fileAmongFolders(of: path) {
            return "\(DisplayPath.of(URL(fileURLWithPath: file))) is a file, not a folder"
        }
        if error.domain == NSCocoaErrorDomain {
            switch CocoaError.Code(rawValue: error.code) {
            case .fileWriteFileExists:
                var folder: ObjCBool = false
                let isFile = path.map { FileManager.default.fileExists(atPath: $0, isDirectory: &folder) && !folder.boolValue } ?? false
                return isFile ? "it already exists, as a file" : "it already exists"
            case .fileNoSuchFile, .fileReadNoSuchFile: return "no such file or folder"
            case .fileWriteNoPermission, .fileReadNoPermission: return "permission denied"
            case .fileWriteOutOfSpace: return "the disk is full"
            case .fileWriteVolumeReadOnly: return "the file system is read-only"
            case .fileWriteInvalidFileName, .fileReadInvalidFileName: return "not a valid file name"
            case .fileReadCorruptFile: return "the file is damaged"
            case .fileReadTooLarge: return "the file is too large"
            default: break
            }
        }
        let text = error.localizedDescription
        return text.contains("Error Domain=") || text.contains("could not be completed") ? "error \(error.code)" : text
    }

    /// The first of `path`'s enclosing folders that is a file (a path "under a file").
    static func fileAmongFolders(of path: String) -> String? {
        var folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        var chain: [URL] = []
        while folder.path != "/" && !folder.path.isEmpty {
            chain.append(folder)
            folder = folder.deletingLastPathComponent()
        }
        for candidate in chain.reversed() {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isFolder) else { return nil }
            if !isFolder.boolValue { return candidate.path }
        }
        return nil
    }

    /// strerror's words, lower-cased as the rest of a message: "no space left on device".
    static func posix(_ code: Int32) -> String {
        let text = String(cString: strerror(code))
        return text.prefix(1).lowercased() + text.dropFirst()
    }
}
