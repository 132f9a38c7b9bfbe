/// `Parallel` comes with the tensors: every target that runs kernels runs its loops on the same pool.
@_exported import VerdictParallel
