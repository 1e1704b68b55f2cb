import ArgumentParser
import Foundation
import Vigil
import VigilReport
import VigilStore

/// `vigil signoff RUN …` records a sign-off; `verify` and `key create` are its subcommands.
struct SignOffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signoff",
        abstract: "Record who approved a run, and check such records against the files.",
        discussion: """
            A sign-off ties who approved (--by, --role) to exactly what was approved: the run's \
            verdict, both models' sha256, the golden set's identity, the suite file's sha256 and \
            the report's content hash. Records are appended to the run store's ledger, each \
            chained to the one before by its hash, so an edited or removed record shows.

            Examples:
              vigil signoff 20261206-101502-3f9a --by "Dana Reyes" --role "QA lead" --key qa.pem
              vigil signoff 20261206-101502-3f9a --by "Dana Reyes" --role "QA lead" --override "known occlusion gap, ticket CV-142"
              vigil signoff verify 20261206-101502-3f9a --trust qa.pem.pub
              vigil signoff key create qa.pem
            """,
        subcommands: [Record.self, Verify.self, Key.self],
        defaultSubcommand: Record.self)

    struct Record: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "record",
            abstract: "Append a sign-off of a complete run (the default: `vigil signoff RUN …`).",
            discussion: """
                Run it from the folder the run was made in: the report is hashed where the run \
                wrote it. A failed gate is refused unless --override gives the reason; the \
                override is part of the record and shown wherever it is (show, history, \
                Markdown, the report).

                Exit status: 0 recorded, 2 refused or the input is wrong.
                """)

        @Argument(help: "The run id, or a unique prefix of it.")
        var runID: String

        @Option(help: "Who signs off.")
        var by: String

        @Option(help: "In which role (e.g. \"QA lead\", \"release manager\").")
        var role: String

        @Option(help: "A note kept with the record.")
        var note: String?

        @Option(help: ArgumentHelp("Sign off a run whose gate failed, for this reason.", valueName: "REASON"))
        var override: String?

        @Option(help: ArgumentHelp("Sign the record with this Ed25519 private key (`vigil signoff key create`).", valueName: "FILE"))
        var key: String?

        @Option(help: "The run store (SQLite). Default: $VIGIL_STORE, else .vigil/history.sqlite.")
        var store: String?

        func run() throws {
            let store = try StoreLocation.existing(store)
            let runID = try store.resolveRunID(self.runID)
            let signingKey = try key.map { try SignOffKey(contentsOf: URL(fileURLWithPath: $0)) }
            let record = try store.signOff(runID: runID, by: by, role: role, note: note, override: override, key: signingKey)
            print("recorded sign-off \(record.position): \(record.summary)")
            print("record hash \(record.hash)" + (record.publicKey.map { ", signed with key \(SignOffKey.fingerprint($0))" } ?? ""))
            // The report lists its sign-offs on a page its content hash leaves out.
            if let path = try store.storedRun(runID).reportPath {
                let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
                try SignOffPage.write(try store.signOffs(runID: runID), runID: runID, to: folder)
                print("listed in \(DisplayPath.of(folder.appendingPathComponent(ReportHash.signOffPage)))")
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a run's sign-offs: the ledger's chain, the signatures, and the models, golden set, suite and report on disk.",
            discussion: """
                Recomputes every hash from the files as they are now (paths as the run recorded \
                them: run it from the folder the run was made in) and prints one line per check.

                Exit status: 0 valid, 1 invalid (the lines say which item differs), 2 error.
                """)

        @Argument(help: "The run id, or a unique prefix of it.")
        var runID: String

        @Option(name: .customLong("trust"), parsing: .upToNextOption,
                help: ArgumentHelp("Public keys (FILE.pub) whose signatures are accepted; with any, every sign-off must be signed by one.",
                                   valueName: "PUBKEY"))
        var trusted: [String] = []

        @Option(help: "The run store (SQLite). Default: $VIGIL_STORE, else .vigil/history.sqlite.")
        var store: String?

        func run() throws {
            let store = try StoreLocation.existing(store)
            let runID = try store.resolveRunID(self.runID)
            let keys = try trusted.map { try SignOffKey.publicKey(contentsOf: URL(fileURLWithPath: $0)) }
            let verification = try store.verifySignOffs(runID: runID, trusted: keys)
            guard !verification.signOffs.isEmpty else {
                print("run \(runID): INVALID — it has no sign-off (`vigil signoff \(runID) --by NAME --role ROLE` records one)")
                throw ExitCode(1)
            }
            verification.signOffs.forEach { print("sign-off \($0.position): \($0.summary)") }
            for check in verification.checks {
                print("  \(check.passed ? "ok  " : "FAIL") \(check.item): \(check.detail)")
            }
            let failed = verification.checks.filter { !$0.passed }
            if failed.isEmpty {
                print("run \(runID): VALID — \(verification.signOffs.count) sign-off\(verification.signOffs.count == 1 ? "" : "s"), \(verification.checks.count) checks")
            } else {
                print("run \(runID): INVALID — \(failed.count) of \(verification.checks.count) checks failed: \(failed.map(\.item).joined(separator: "; "))")
                throw ExitCode(1)
            }
        }
    }

    struct Key: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make Ed25519 keys for signing sign-offs.",
            subcommands: [Create.self])

        struct Create: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Write a new private key to FILE (owner-only) and its public key to FILE.pub.",
                discussion: "PEM files OpenSSL reads too (`openssl pkey -in FILE -pubout` prints FILE.pub). Existing files are never overwritten.")

            @Argument(help: "The private key file to write.")
            var file: String

            func run() throws {
                let key = try SignOffKey.create(at: URL(fileURLWithPath: file))
                print("wrote \(file) (private, keep it secret) and \(file).pub (public, for `vigil signoff verify --trust`): key \(SignOffKey.fingerprint(key.publicKey))")
            }
        }
    }
}
