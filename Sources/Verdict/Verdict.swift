/// `import Verdict` brings in the whole public API: tokenizers, tensors, checkpoints, models,
/// datasets and training.
@_exported import VerdictDatasets
@_exported import VerdictHub
@_exported import VerdictMetrics
@_exported import VerdictModels
@_exported import VerdictPipelines
@_exported import VerdictProgress
@_exported import VerdictTensor
@_exported import VerdictTokenizers
@_exported import VerdictTraining
