import Foundation
import GRDB
import Synchronization
import Testing
import Vigil
@testable import VigilStore

/// The store under several processes (here: several connections, each with its own SQLite
/// handle, as separate processes have) and under schema change.
@Suite("Run store: concurrent opening, locks held by others, newer schemas")
struct StoreConcurrencyTests {
    func scratch() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("vigil-store-\(UUID().uuidString)")
    }

    /// Many connections opening one new (empty) store at once all succeed, and the schema is
    /// applied once. With GRDB's migrator each connection read the applied migrations before
    /// taking the lock, and some failed with "table runs already exists".
    @Test func manyOpenersOfANewStoreAllSucceed() throws {
        let folder = scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for round in 0..<4 {
            let path = folder.appendingPathComponent("store-\(round).sqlite").path
            _ = FileManager.default.createFile(atPath: path, contents: Data())
            let failures = Mutex<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 16) { _ in
                do { _ = try RunStore(path: path) } catch { failures.withLock { $0.append("\(error)") } }
            }
            #expect(failures.withLock { $0 } == [])
            let applied = try DatabaseQueue(path: path).read { try String.fetchAll($0, sql: "SELECT identifier FROM grdb_migrations") }
            #expect(applied == RunStore.migrations.map(\.identifier))
        }
    }

    /// Four runs recorded at once on one store all complete.
    @Test func concurrentRunsAllComplete() throws {
        let folder = scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("history.sqlite").path
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            do {
                let store = try RunStore(path: path)
                let result = makeResult()
                try store.beginForTest(result)
                try store.complete(result)
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }
        #expect(failures.withLock { $0 } == [])
        #expect(try RunStore(path: path).runs().map(\.status) == Array(repeating: "complete", count: 4))
    }

    /// Another connection holding the store's lock for three seconds (someone's sqlite3
    /// session in a transaction) makes the opening wait, say so once, and then succeed.
    @Test func aHeldLockIsWaitedForWithAMessage() throws {
        let folder = scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("history.sqlite").path
        _ = try RunStore(path: path)
        let holder = try DatabaseQueue(path: path)
        let locked = DispatchSemaphore(value: 0)
        let released = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            try? holder.writeWithoutTransaction { db in
                try db.execute(sql: "BEGIN EXCLUSIVE")
                locked.signal()
                Thread.sleep(forTimeInterval: 3)
                try db.execute(sql: "COMMIT")
            }
            released.signal()
        }
        locked.wait()
        let notices = Mutex<[String]>([])
        let started = Date()
        _ = try RunStore(path: path, waiting: { message in notices.withLock { $0.append(message) } })
        #expect(Date().timeIntervalSince(started) >= 2.5)
        released.wait()
        let said = notices.withLock { $0 }
        #expect(said.count == 1)
        #expect(said.first?.contains("the run store is locked by another process") == true, "\(said)")
    }

    /// A store with a migration this version does not know was written by a newer Vigil: it is
    /// refused, naming that Vigil's version and the schema both know, before anything is written.
    @Test func aStoreFromANewerVigilIsRefused() throws {
        let folder = scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("history.sqlite").path
        let store = try RunStore(path: path)
        try store.beginForTest(makeResult())
        try DatabaseQueue(path: path).write { db in
            try db.execute(sql: "UPDATE runs SET vigil_version = '9.9.9'")
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99: from the future')")
        }
        do {
            _ = try RunStore(path: path)
            Issue.record("a newer store was opened")
        } catch let error as InputError {
            #expect(error.message.contains("written by a newer Vigil (9.9.9)"), "\(error.message)")
            #expect(error.message.contains("'v99: from the future'"))
            #expect(error.message.contains("Vigil \(VigilVersion.string) does not know"))
            #expect(error.message.contains("'\(RunStore.migrations.last!.identifier)'"))
        }
    }

    /// A store written by GRDB's migrator before this version (identifiers up to v5) is
    /// migrated forward by the one exclusive transaction, keeping its runs.
    @Test func anOlderStoreIsMigratedAndKeepsItsRuns() throws {
        let folder = scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("history.sqlite").path
        var migrator = DatabaseMigrator()
        for migration in RunStore.migrations.prefix(5) {
            migrator.registerMigration(migration.identifier) { try $0.execute(sql: migration.sql) }
        }
        try migrator.migrate(try DatabaseQueue(path: path))
        let old = try RunStore(path: path)
        let result = makeResult()
        try old.beginForTest(result)
        try old.complete(result)
        let columns = try DatabaseQueue(path: path).read { try $0.columns(in: "runs").map(\.name) }
        #expect(columns.contains("report_path"))
        #expect(try RunStore(path: path).result(runID: result.id)?.scenarios == result.scenarios)
    }
}
