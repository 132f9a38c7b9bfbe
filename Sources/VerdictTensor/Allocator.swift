import CVerdictKernels

/// Process-wide memory allocator settings for tensor work.
///
/// A forward pass allocates and frees many short-lived buffers of megabytes. glibc's defaults
/// return such memory to the kernel as soon as it is freed, so the next buffer of the same size
/// costs page faults and the kernel zeroing fresh pages (about 8 % of a long-text batch).
/// `keepFreedMemoryForReuse()` raises the thresholds so freed memory stays in the process and is
/// reused; peak memory is unchanged, resident memory stays near the peak between batches.
/// A no-op outside glibc.
public enum Allocator {
    /// Applies the settings once per process (later calls do nothing). They are the whole
    /// process's, so the library never applies them itself: `verdict` and `verdict-serve` do at
    /// start, and an application that runs models may (the figures in docs/Performance.md are with them).
    public static func keepFreedMemoryForReuse() { _ = configured }

    private static let configured: Void = vk_keep_freed_memory()

    /// Returns the memory kept for reuse to the kernel (glibc's `malloc_trim`), so resident memory
    /// falls back after a large batch; the next batch pays the page faults again. A long-running
    /// process (the server) calls it when it goes idle.
    public static func releaseFreedMemory() { vk_release_freed_memory() }

    /// Has every thread created from now on share `count` malloc arenas (glibc's `M_ARENA_MAX`).
    /// A server's many short-lived request threads otherwise each grow an arena of their own whose
    /// freed pages stay scattered; with one arena `releaseFreedMemory()` gets them all back.
    public static func limitArenas(to count: Int) { vk_limit_arenas(Int32(clamping: max(1, count))) }
}
