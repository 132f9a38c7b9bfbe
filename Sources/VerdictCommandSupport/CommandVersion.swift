import Verdict

/// What `--version` prints for `verdict` and `verdict-serve`.
package enum CommandVersion {
    /// `0.1.0 (commit abc1234)`: the package version, and the commit when the build recorded it.
    package static var string: String {
        VerdictVersion.current + (KernelInfo.buildCommit.map { " (commit \($0))" } ?? " (commit not recorded: built without make)")
    }
}
