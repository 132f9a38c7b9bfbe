/// Verdict's version, as tagged in git and printed by `verdict --version`.
public enum VerdictVersion {
    /// The package version (semantic versioning). Bump it with the tag: `git tag <version>`.
    public static let current = "0.1.0"
}
