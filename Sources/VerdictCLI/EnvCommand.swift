import ArgumentParser
import Foundation
import Verdict
import VerdictCommandSupport
import VerdictDefaultModel

/// `verdict env`: what a bug report needs — version, OS, CPU and kernel path, threads, and where
/// the default model and the Hugging Face cache were found.
struct EnvCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "env", abstract: "Print version, system, CPU features and paths for a bug report.")

    func run() throws {
        let env = ProcessInfo.processInfo.environment
        print("verdict: \(CommandVersion.string)")
        print("os: \(Self.osName()), kernel \(Self.kernelRelease())")
        print("cpu: \(Self.cpuName()), \(ProcessInfo.processInfo.activeProcessorCount) cores")
        let features = KernelInfo.cpuFeatures
        print("cpu features: \(features.isEmpty ? "none detected" : features.joined(separator: " "))")
        print("kernel path: \(KernelInfo.path)")
        print("threads: \(Parallel.threadCount)\(env["VERDICT_NUM_THREADS"].map { " (VERDICT_NUM_THREADS=\($0))" } ?? "")")
        print("executable: \(DefaultModelResource.runningExecutable()?.path ?? "unknown")")
        do {
            let fromEnvironment = !(env["VERDICT_DEFAULT_MODEL"] ?? "").isEmpty
            print("default model: \(try DefaultModel.path())\(fromEnvironment ? " (VERDICT_DEFAULT_MODEL)" : "")")
        } catch let missing as DefaultModel.NotFound {
            print("default model: not found (searched \(missing.searched.joined(separator: ", ")))")
        }
        let cache = ModelLocation.cacheRoot
        let cacheState = FileManager.default.fileExists(atPath: cache.path) ? "exists" : "not created yet"
        print("hugging face cache: \(cache.path) (\(cacheState))")
        print("hugging face endpoint: \(env["HF_ENDPOINT"] ?? "https://huggingface.co")\(env["HF_HUB_OFFLINE"] == "1" ? " (offline)" : "")")
    }

    /// `PRETTY_NAME` from /etc/os-release, else the platform name.
    static func osName() -> String {
        if let text = try? String(contentsOfFile: "/etc/os-release", encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("PRETTY_NAME=") }) {
            return line.dropFirst("PRETTY_NAME=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        #if os(macOS)
        return "macOS"
        #else
        return "unknown"
        #endif
    }

    /// The kernel's release (`uname -r`).
    static func kernelRelease() -> String {
        var name = utsname()
        uname(&name)
        return withUnsafeBytes(of: &name.release) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// `model name` from /proc/cpuinfo with family and model numbers, else the architecture.
    static func cpuName() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else {
            #if arch(x86_64)
            return "x86-64"
            #else
            return "arm64"
            #endif
        }
        func field(_ key: String) -> String? {
            text.split(separator: "\n").first { $0.hasPrefix(key) }.flatMap { line in
                line.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) }
            }
        }
        var name = field("model name") ?? "unknown CPU"
        if let family = field("cpu family"), let model = field("model\t") { name += " (family \(family), model \(model))" }
        return name
    }
}
