import Foundation

/// Where the bundled default model's files are, wherever the code that uses them runs.
///
/// The model (`default-sentiment/` beside this file) is a SwiftPM resource of this target, so every
/// build that links Verdict — its own CLI, a package that depends on Verdict, the test bundle —
/// gets a copy beside its executable in `<Package>_VerdictDefaultModel.resources/`. An installed
/// `verdict` (`make install`, the .deb) finds it in `<prefix>/share/verdict/`. The files are read
/// in place (checkpoints are memory-mapped), never copied at load.
///
/// SwiftPM's generated `Bundle.module` is not used: it stops the process when the bundle is
/// missing, and an installed binary has no build folder to fall back on.
public enum DefaultModelResource {
    /// Folder name of the model inside the resource bundle and the install tree.
    public static let folderName = "default-sentiment"

    /// The folders searched, in order: the resource bundle beside the running executable, the
    /// install tree (`<bin>/../share/verdict/`), and this target's source folder (a checkout whose
    /// build folder was removed or moved).
    public static func candidates(executable: URL? = runningExecutable()) -> [URL] {
        var folders: [URL] = []
        if let executable {
            let binDir = executable.deletingLastPathComponent()
            let fm = FileManager.default
            let bundles = ((try? fm.contentsOfDirectory(atPath: binDir.path)) ?? [])
                .filter { $0.hasSuffix("_VerdictDefaultModel.resources") || $0.hasSuffix("_VerdictDefaultModel.bundle") }
                .sorted()
            for bundle in bundles {
                let root = binDir.appendingPathComponent(bundle)
                folders.append(root.appendingPathComponent(folderName))
                folders.append(root.appendingPathComponent("Contents/Resources").appendingPathComponent(folderName))
            }
            folders.append(binDir.deletingLastPathComponent().appendingPathComponent("share/verdict").appendingPathComponent(folderName))
        }
        folders.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(folderName))
        return folders
    }

    /// The first candidate folder that holds the model's `config.json`, or nil.
    public static func folder(executable: URL? = runningExecutable()) -> URL? {
        candidates(executable: executable).first {
            FileManager.default.fileExists(atPath: $0.appendingPathComponent("config.json").path)
        }
    }

    /// The running executable with symbolic links resolved (`/usr/bin/verdict` → the real file).
    public static func runningExecutable() -> URL? {
        #if os(Linux)
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return URL(fileURLWithPath: path).resolvingSymlinksInPath()
        }
        #endif
        if let url = Bundle.main.executableURL { return url.resolvingSymlinksInPath() }
        return CommandLine.arguments.first.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath() }
    }
}
