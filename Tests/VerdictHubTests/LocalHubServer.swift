import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A tiny HTTP/1.1 server on 127.0.0.1 that mimics the Hub's URLs for tests:
/// `HEAD|GET /<repo>/resolve/<revision>/<file>` answers with `ETag` and `X-Repo-Commit`; files
/// marked as LFS answer HEAD with a 302 to `/cdn/<sha>` plus `X-Linked-Etag`, like the Hub's
/// large files. `GET` honours `Range: bytes=N-`. With `requiredToken`, requests without
/// `Authorization: Bearer <token>` get 401.
final class LocalHubServer: @unchecked Sendable {
    struct File { var data: Data; var lfs: Bool }
    let repo: String
    let commit = "0123456789abcdef0123456789abcdef01234567"
    var files: [String: File]
    var requiredToken: String?
    private(set) var requests: [String] = []
    private let lock = NSLock()
    private var listener: Int32 = -1
    private(set) var port: UInt16 = 0

    init(repo: String, files: [String: File]) { self.repo = repo; self.files = files }

    var endpoint: URL { URL(string: "http://127.0.0.1:\(port)")! }

    static func etag(_ data: Data) -> String {
        var h: UInt64 = 1469598103934665603
        for b in data { h = (h ^ UInt64(b)) &* 1099511628211 }
        return String(format: "%016llx", h)
    }

    func start() throws {
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(listener, 16) == 0 else { throw POSIXError(.EADDRINUSE) }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &len) } }
        port = UInt16(bigEndian: addr.sin_port)
        let fd = listener
        Thread.detachNewThread { [weak self] in
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 { return }
                self?.serve(client)
                close(client)
            }
        }
    }

    func stop() { shutdown(listener, Int32(SHUT_RDWR)); close(listener) }

    private func serve(_ client: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65536), request = Data()
        while request.range(of: Data("\r\n\r\n".utf8)) == nil {
            let n = recv(client, &buffer, buffer.count, 0)
            if n <= 0 { return }
            request.append(buffer, count: n)
        }
        let text = String(decoding: request, as: UTF8.self)
        let lines = text.components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ")
        guard parts.count >= 2 else { return }
        let method = String(parts[0]), path = String(parts[1])
        var headers: [String: String] = [:]
        for l in lines.dropFirst() { if let c = l.firstIndex(of: ":") { headers[l[..<c].lowercased()] = l[l.index(after: c)...].trimmingCharacters(in: .whitespaces) } }
        lock.lock(); requests.append("\(method) \(path)" + (headers["range"].map { " Range: \($0)" } ?? "")); lock.unlock()
        func respond(_ status: String, _ extra: [String: String], _ body: Data) {
            var head = "HTTP/1.1 \(status)\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
            for (k, v) in extra { head += "\(k): \(v)\r\n" }
            var out = Data((head + "\r\n").utf8)
            if method != "HEAD" { out.append(body) }
            out.withUnsafeBytes { p in var sent = 0; while sent < out.count { let n = send(client, p.baseAddress! + sent, out.count - sent, 0); if n <= 0 { break }; sent += n } }
        }
        if let token = requiredToken, headers["authorization"] != "Bearer \(token)" { respond("401 Unauthorized", [:], Data()); return }
        var data: Data? = nil
        var extra: [String: String] = [:]
        let prefix = "/\(repo)/resolve/"
        if path.hasPrefix("/cdn/") {
            data = files.values.first { Self.etag($0.data) == String(path.dropFirst(5)) }?.data
        } else if path.hasPrefix(prefix) {
            let rest = path.dropFirst(prefix.count)
            guard let slash = rest.firstIndex(of: "/") else { respond("404 Not Found", [:], Data()); return }
            let revision = rest[..<slash], name = String(rest[rest.index(after: slash)...])
            guard revision == "main" || revision == commit, let file = files[name] else { respond("404 Not Found", ["X-Error-Code": "EntryNotFound"], Data()); return }
            let tag = Self.etag(file.data)
            if file.lfs {
                respond("302 Found", ["Location": "/cdn/\(tag)", "X-Linked-Etag": "\"\(tag)\"", "X-Repo-Commit": commit, "ETag": "\"redirect\""], Data())
                return
            }
            data = file.data
            extra = ["ETag": "\"\(tag)\"", "X-Repo-Commit": commit]
        }
        guard let body = data else { respond("404 Not Found", [:], Data()); return }
        if let range = headers["range"], range.hasPrefix("bytes="), let start = Int(range.dropFirst(6).dropLast()), start < body.count {
            extra["Content-Range"] = "bytes \(start)-\(body.count - 1)/\(body.count)"
            respond("206 Partial Content", extra, body.subdata(in: start..<body.count))
        } else {
            respond("200 OK", extra, body)
        }
    }
}
