import CVerdictKernels

/// What the numeric kernels found on this machine and chose, for `verdict env` and bug reports.
public enum KernelInfo {
    /// The CPU's vector features relevant to Verdict, as detected at run time (e.g. `["avx2", "fma", "f16c"]`).
    public static var cpuFeatures: [String] {
        let bits = Int(vk_cpu_features())
        let names: [(Int, String)] = [
            (Int(VK_CPU_AVX2), "avx2"), (Int(VK_CPU_FMA), "fma"), (Int(VK_CPU_F16C), "f16c"),
            (Int(VK_CPU_AVX512F), "avx512f"), (Int(VK_CPU_AVX512BW), "avx512bw"),
            (Int(VK_CPU_AVX512DQ), "avx512dq"), (Int(VK_CPU_AVX512VL), "avx512vl"),
            (Int(VK_CPU_AVX512VNNI), "avx512vnni"), (Int(VK_CPU_AVXVNNI), "avxvnni"),
            (Int(VK_CPU_AVX512BF16), "avx512bf16"),
        ]
        return names.filter { bits & $0.0 != 0 }.map(\.1)
    }

    /// The kernel path in use, with the int8 multiply's instructions: e.g. `"avx512 (int8: avx512-vnni)"`,
    /// `"avx2+fma (int8: avx2)"` or `"portable"`.
    public static var path: String {
        switch KernelPath.current {
        case .portable: return "portable"
        case .avx2: return "avx2+fma (int8: avx2)"
        case .avx512: return "avx512 (int8: \(vk_uses_avx512vnni() != 0 ? "avx512-vnni" : "avx2"))"
        }
    }

    /// The commit Verdict was built from when the build recorded it (`make install`, `make deb`), else nil.
    public static var buildCommit: String? {
        let commit = String(cString: vk_build_commit())
        return commit.isEmpty ? nil : commit
    }
}
