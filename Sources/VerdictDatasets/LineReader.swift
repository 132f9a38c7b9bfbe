import Foundation

/// Reads a file descriptor line by line as raw bytes (no decoding, so a JSON line's bytes can be
/// passed through exactly), 64 KiB at a time; a UTF-8 byte-order mark at the start is skipped.
public final class LineReader {
    /// `standard input` or the file's path, for messages.
    public let name: String
    private let fd: Int32
    private let ownsDescriptor: Bool
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false
    private var lineNumber = 0

    /// Standard input.
    public init() { (name, fd, ownsDescriptor) = ("standard input", 0, false) }

    /// Opens a file.
    public init(path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw DatasetError.unreadableFile(path: path, reason: String(cString: strerror(errno))) }
        (name, self.fd, ownsDescriptor) = (path, fd, true)
    }

    deinit { if ownsDescriptor { close(fd) } }

    /// The next line (1-based number, bytes without the newline), or nil at the end.
    public func next() throws -> (Int, [UInt8])? {
        while true {
            if let newline = buffer[start...].firstIndex(of: 0x0A) {
                return take(upTo: newline, skipping: 1)
            }
            if atEnd {
                return start < buffer.count ? take(upTo: buffer.count, skipping: 0) : nil
            }
            buffer.removeFirst(start)
            start = 0
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw DatasetError.unreadableFile(path: name, reason: String(cString: strerror(errno)))
            }
            if n == 0 { atEnd = true } else { buffer += chunk[..<n] }
        }
    }

    private func take(upTo end: Int, skipping separator: Int) -> (Int, [UInt8]) {
        var line = Array(buffer[start..<end])
        start = end + separator
        lineNumber += 1
        if lineNumber == 1, line.starts(with: [0xEF, 0xBB, 0xBF]) { line.removeFirst(3) }
        return (lineNumber, line)
    }
}

extension LineReader {
    /// The next text of a one-text-per-line input: the line without its `\n` or `\r\n`, blank
    /// lines (nothing but spaces, tabs and carriage returns) skipped; `line` is the physical line
    /// number. Invalid UTF-8 is an error naming the line.
    public func nextText() throws -> (line: Int, text: String)? {
        while let (number, bytes) = try next() {
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            let content = bytes.last == 0x0D ? bytes.dropLast() : bytes[...]
            guard let text = String(validating: content, as: UTF8.self) else { throw DatasetError.invalidUTF8(path: name, line: number) }
            return (number, text)
        }
        return nil
    }

    /// Up to `count` texts (`nextText`); fewer only at the end of the input.
    public func nextTexts(_ count: Int) throws -> [String] {
        var texts: [String] = []
        while texts.count < count, let (_, text) = try nextText() { texts.append(text) }
        return texts
    }
}

/// The texts of a file, read the same way by every command that takes `--input`: CSV, TSV, JSON
/// Lines and JSON arrays are tables (the column named, else the first of
/// `LabelledTexts.defaultTextColumns` the file has: `text`, then `sentence`, …); any other file
/// (`.txt`) holds one text per line (`LineReader.nextText`: `\n` or `\r\n`, byte-order mark and
/// blank lines skipped). Errors name the file and the physical line.
public enum TextFile {
    /// The extensions read as tables.
    public static let tableExtensions: Set<String> = ["csv", "tsv", "jsonl", "ndjson", "json"]

    /// The texts of `url`, in file order.
    public static func texts(_ url: URL, column: String? = nil) throws -> [String] {
        guard tableExtensions.contains(url.pathExtension.lowercased()) else {
            let reader = try LineReader(path: url.path)
            var texts: [String] = []
            while let (_, text) = try reader.nextText() { texts.append(text) }
            guard !texts.isEmpty else { throw DatasetError.emptyFile(path: url.path) }
            return texts
        }
        let table = try Dataset.load(url)
        guard table.count > 0 else { throw DatasetError.emptyFile(path: url.path) }   // a header and no rows
        let name = column ?? LabelledTexts.defaultTextColumns.first { table.columns[$0] != nil } ?? LabelledTexts.defaultTextColumns.joined(separator: " or ")
        guard let values = table.columns[name] else { throw DatasetError.missingColumn(path: url.path, column: name, available: table.columnNames) }
        return values
    }
}
