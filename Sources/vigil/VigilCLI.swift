import ArgumentParser
import Foundation
import Vigil

/// The command-line tool: argument parsing and printing only; all work is in the libraries.
///
/// Exit status: 0 the gate passed (or the command succeeded), 1 the gate failed (or a check such
/// as `golden verify` found problems), 2 the input or the command is wrong.
@main
struct VigilCLI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil",
        abstract: "Regression gates for computer-vision models.",
        discussion: """
            Evaluate a candidate model against a baseline on a golden set under scenarios \
            (low light, motion blur, occlusion, …), gate it on conditions, store the run and \
            write a report.

            Exit status: 0 pass, 1 the gate failed, 2 the input or the command is wrong.
            """,
        version: VigilVersion.string,
        subcommands: [RunCommand.self, ScoreCommand.self, ModelCommand.self, GoldenCommand.self, CorruptCommand.self, HistoryCommand.self, ScenariosCommand.self])

    static func main() async {
        OpenCV.keepFreedMemoryForReuse()
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as InputError {
            Terminal.error(error.message)
            Foundation.exit(2)
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch {
            // Help and --version are "errors" that exit 0; every other failure to parse or run is
            // a usage or input problem (status 2), never a gate verdict (status 1).
            let status = exitCode(for: error)
            if status == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            Terminal.error(fullMessage(for: error))
            Foundation.exit(2)
        }
    }
}

enum Terminal {
    static func error(_ message: String) {
        let text = message.hasPrefix("Error:") || message.hasPrefix("error:") ? message : "error: \(message)"
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) != 0 }
}
