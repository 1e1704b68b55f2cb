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
        subcommands: [RunCommand.self, ShowCommand.self, HistoryCommand.self, CompareCommand.self, TrendCommand.self, ReportCommand.self, ExportCommand.self, SignOffCommand.self, ScoreCommand.self, ModelCommand.self, GoldenCommand.self, CorruptCommand.self, ScenariosCommand.self])

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
        } catch let error as CocoaError {
            // A file that could not be read or written where no caller said more: its path and
            // the reason, not Foundation's dump.
            let path = error.filePath ?? error.url?.path ?? (error.userInfo[NSFilePathErrorKey] as? String)
            Terminal.error((path.map { "\(DisplayPath.of(URL(fileURLWithPath: $0))): " } ?? "") + FileProblem.describe(error))
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
            // One line and where to read more; the usage block ArgumentParser adds would bury it.
            let arguments = Array(CommandLine.arguments.dropFirst())
            let first = message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            let text = negativeValue(arguments, error: first) ?? first
            Terminal.error("\(text) (see '\(commandPath(arguments)) --help')")
            Foundation.exit(2)
        }
    }

    /// ArgumentParser reads `--bins -3` as an option without its value; every numeric option
    /// of Vigil's is zero or positive, so say that instead.
    static func negativeValue(_ arguments: [String], error: String) -> String? {
        for (option, value) in zip(arguments, arguments.dropFirst()) where error.hasPrefix("Missing value for '\(option) ") {
            if value.hasPrefix("-"), let number = Double(value), number < 0 {
                return "\(option) \(value): negative values are outside every option's range"
            }
        }
        return nil
    }

    /// "vigil score classification": the deepest command the arguments name.
    static func commandPath(_ arguments: [String]) -> String {
        var command: any ParsableCommand.Type = VigilCLI.self
        var path = ["vigil"]
        for argument in arguments {
            guard let sub = command.configuration.subcommands.first(where: { $0._commandName == argument }) else { break }
            command = sub
            path.append(argument)
        }
        return path.joined(separator: " ")
    }
}

enum Terminal {
    static func error(_ message: String) {
        let text = message.hasPrefix("Error:") || message.hasPrefix("error:") ? message : "error: \(message)"
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// A line on stderr that is not an error (the command goes on).
    @Sendable static func note(_ message: String) {
        FileHandle.standardError.write(Data("note: \(message)\n".utf8))
    }

    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) != 0 }
}
