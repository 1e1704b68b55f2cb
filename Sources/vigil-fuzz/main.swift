// vigil-fuzz: mutation fuzzing of Vigil's file readers for a bounded time (`make fuzz`).
//
//   vigil-fuzz [--seconds 120] [--seed 1] [--targets manifest,suite,…]
//
// Runs every target (see VigilFuzzing) for an equal share of the time, in a scratch folder
// .build-fuzz/ at the repository root, and prints per target the executions, accepted and
// refused inputs and the findings; each finding's input is kept in .build-fuzz/findings/. While a
// reader runs, stderr goes to a pipe: a reader that writes there (libjpeg or libpng talking
// past Vigil's messages) is a finding too. Exit status 1 when anything was found.
import Foundation
import Vigil
import VigilFuzzing

var seconds = 120.0, seed: UInt64 = 1, only: Set<String>?
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--seconds": seconds = Double(arguments.next() ?? "") ?? seconds
    case "--seed": seed = UInt64(arguments.next() ?? "") ?? seed
    case "--targets": only = Set((arguments.next() ?? "").split(separator: ",").map(String.init))
    default:
        FileHandle.standardError.write(Data("usage: vigil-fuzz [--seconds S] [--seed N] [--targets a,b]\n".utf8))
        exit(2)
    }
}

let root = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
let scratch = root.appendingPathComponent(".build-fuzz")
let findingsFolder = scratch.appendingPathComponent("findings")
try? FileManager.default.removeItem(at: findingsFolder)
try FileManager.default.createDirectory(at: findingsFolder, withIntermediateDirectories: true)
let targets = try FuzzTarget.all(root: root, scratch: scratch).filter { only?.contains($0.name) ?? true }

// Everything written to stderr while a reader runs lands in a pipe, read back after each input.
let savedStderr = dup(STDERR_FILENO)
var pipeEnds: [Int32] = [0, 0]
pipe(&pipeEnds)
let (pipeRead, pipeWrite) = (pipeEnds[0], pipeEnds[1])
_ = fcntl(pipeRead, F_SETFL, fcntl(pipeRead, F_GETFL) | O_NONBLOCK)

/// Collects what readers wrote to stderr, attributed to the input that was running.
final class StderrWatch {
    let descriptor: Int32
    var current = Data()
    var findings: [(input: Data, problem: String)] = []

    init(descriptor: Int32) { self.descriptor = descriptor }

    /// Attributes what is in the pipe to the input that just ran, then notes the next one.
    func next(_ input: Data?) {
        var said = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count <= 0 { break }
            said.append(contentsOf: buffer[0..<count])
        }
        if !said.isEmpty { findings.append((current, "wrote to stderr: \(String(decoding: said.prefix(200), as: UTF8.self))")) }
        if let input { current = input }
    }
}

var total = 0, found = 0
let share = seconds / Double(max(1, targets.count))
for (index, target) in targets.enumerated() {
    let deadline = Date().addingTimeInterval(share)
    let watch = StderrWatch(descriptor: pipeRead)
    dup2(pipeWrite, STDERR_FILENO)
    var report = try Fuzzer.run(target, seed: seed &+ UInt64(index), executions: .max, deadline: deadline, scratch: scratch) { input in
        watch.next(input)
    }
    watch.next(nil)
    dup2(savedStderr, STDERR_FILENO)
    report.findings += watch.findings
    total += report.executions
    for (number, finding) in report.findings.enumerated() {
        let name = "\(target.name)-\(number)-" + (target.fileName as NSString).lastPathComponent
        try finding.input.write(to: findingsFolder.appendingPathComponent(name))
        if number < 5 { print("  \(target.name): \(finding.problem.prefix(300)) (input: .build-fuzz/findings/\(name))") }
    }
    found += report.findings.count
    print("\(target.name): \(report.executions) executions, \(report.accepted) accepted, \(report.refused) refused in one line, "
          + "\(report.findings.count) findings")
}
print("vigil-fuzz: \(total) executions over \(targets.count) readers in \(Int(seconds)) s, \(found) findings")
exit(found == 0 ? 0 : 1)
