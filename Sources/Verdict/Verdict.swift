/// `import Verdict` brings in the whole public API: today the tokenizers; models, pipelines and
/// training join as they land.
@_exported import VerdictTokenizers
