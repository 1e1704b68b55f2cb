import Foundation

/// A folder written whole or not at all (a report, an imported golden set): `body` fills a
/// hidden folder beside it, which is renamed into place once `body` returns, replacing what is
/// there. On any error the hidden folder is removed, so nothing half-written is left that looks
/// complete, and the same command can simply be run again.
public enum StagedFolder {
    /// `shown` names the folder in messages; `creating` and `writing` say what failed
    /// ("cannot create \(creating) (…)", "cannot write \(writing) (…)"). Messages from `body`
    /// that name a file in the hidden folder are rewritten to name it in `folder`.
    public static func write(_ folder: URL, shown: String, creating: String, writing: String, _ body: (URL) throws -> Void) throws {
        let fileManager = FileManager.default
        let staging = folder.deletingLastPathComponent()
            .appendingPathComponent(".\(folder.lastPathComponent).partial-\(UUID().uuidString.prefix(8))")
        do {
            try fileManager.createDirectory(at: staging, withIntermediateDirectories: true)
        } catch {
            throw InputError("\(shown): cannot create \(creating) (\(FileProblem.describe(error)))")
        }
        do {
            try body(staging)
            if fileManager.fileExists(atPath: folder.path) { try fileManager.removeItem(at: folder) }
            try fileManager.moveItem(at: staging, to: folder)
        } catch {
            try? fileManager.removeItem(at: staging)
            if let error = error as? InputError {
                let final = [(staging.path, folder.path), (DisplayPath.of(staging), DisplayPath.of(folder))]
                throw InputError(final.reduce(error.message) { $0.replacingOccurrences(of: $1.0, with: $1.1) })
            }
            throw InputError("\(shown): cannot write \(writing) (\(FileProblem.describe(error)))")
        }
    }
}
