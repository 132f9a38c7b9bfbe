import Foundation

/// A read-only view of the stored (uncompressed) entries of a zip file, which is how `torch.save`
/// writes `pytorch_model.bin`. Every offset and size is checked against the file.
struct ZipArchive {
    let path: String
    let data: Data
    /// Entry name → byte range of its contents within `data`.
    private(set) var entries: [String: Range<Int>] = [:]

    init(data: Data, path: String) throws {
        self.data = data
        self.path = path
        func fail(_ reason: String) -> CheckpointError { .malformed(file: path, reason: reason) }
        func u16(_ o: Int) throws -> Int {
            guard o >= 0, o + 2 <= data.count else { throw fail("zip structure points past the end of the file") }
            return Int(data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: o, as: UInt16.self) }.littleEndian)
        }
        func u32(_ o: Int) throws -> Int {
            guard o >= 0, o + 4 <= data.count else { throw fail("zip structure points past the end of the file") }
            return Int(data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: o, as: UInt32.self) }.littleEndian)
        }
        func u64(_ o: Int) throws -> Int {
            guard o >= 0, o + 8 <= data.count else { throw fail("zip structure points past the end of the file") }
            let v = data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: o, as: UInt64.self) }.littleEndian
            guard v < UInt64(Int.max) else { throw fail("zip64 size out of range") }
            return Int(v)
        }
        // End of central directory: the last occurrence of its signature within the final 64 KiB.
        var eocd = -1
        var o = data.count - 22
        let lowest = max(0, data.count - 22 - 65_535)
        while o >= lowest {
            if try u32(o) == 0x0605_4B50 { eocd = o; break }
            o -= 1
        }
        guard eocd >= 0 else { throw fail("not a zip archive (torch.save's format since PyTorch 1.6); older pickle-only files are not supported") }
        var count = try u16(eocd + 10)
        var cdOffset = try u32(eocd + 16)
        if cdOffset == 0xFFFF_FFFF || count == 0xFFFF {
            // ZIP64: locator 20 bytes before the EOCD points at the ZIP64 EOCD record.
            guard try u32(eocd - 20) == 0x0706_4B50 else { throw fail("zip64 locator missing") }
            let z = try u64(eocd - 20 + 8)
            guard try u32(z) == 0x0606_4B50 else { throw fail("zip64 end record missing") }
            count = try u64(z + 32)
            cdOffset = try u64(z + 48)
        }
        var p = cdOffset
        for _ in 0..<count {
            guard try u32(p) == 0x0201_4B50 else { throw fail("bad central directory entry at byte \(p)") }
            let method = try u16(p + 10)
            var size = try u32(p + 20), uncompressed = try u32(p + 24)
            let nameLength = try u16(p + 28), extraLength = try u16(p + 30), commentLength = try u16(p + 32)
            var local = try u32(p + 42)
            guard p + 46 + nameLength <= data.count else { throw fail("entry name past the end of the file") }
            let name = String(decoding: data[(p + 46)..<(p + 46 + nameLength)], as: UTF8.self)
            // ZIP64 extra field (id 1) carries the sizes/offset that are 0xFFFFFFFF above.
            var e = p + 46 + nameLength
            let extraEnd = e + extraLength
            while e + 4 <= extraEnd {
                let id = try u16(e), len = try u16(e + 2)
                if id == 1 {
                    var f = e + 4
                    if uncompressed == 0xFFFF_FFFF { uncompressed = try u64(f); f += 8 }
                    if size == 0xFFFF_FFFF { size = try u64(f); f += 8 }
                    if local == 0xFFFF_FFFF { local = try u64(f) }
                }
                e += 4 + len
            }
            guard method == 0, size == uncompressed else {
                throw fail("entry \(name) is compressed (method \(method)); torch.save stores entries uncompressed")
            }
            guard try u32(local) == 0x0403_4B50 else { throw fail("bad local header for \(name)") }
            let start = local + 30 + (try u16(local + 26)) + (try u16(local + 28))
            guard start >= 0, size >= 0, start <= data.count, size <= data.count - start else {
                throw fail("entry \(name) (\(size) bytes at \(start)) extends past the end of the file")
            }
            entries[name] = start..<(start + size)
            p += 46 + nameLength + extraLength + commentLength
        }
    }
}
