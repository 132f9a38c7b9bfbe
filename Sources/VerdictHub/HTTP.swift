import Foundation
import VerdictProgress
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Blocking HTTP helpers over URLSession for the Hub client: a request without body, and a
/// resumable download to a file with progress.
enum HTTP {
    struct Response {
        var status: Int
        var headers: [String: String]
        func header(_ name: String) -> String? { headers.first { $0.key.lowercased() == name.lowercased() }?.value }
    }

    final class NoRedirect: NSObject, URLSessionTaskDelegate {
        func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                        newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) { completionHandler(nil) }
    }

    /// Tries a transfer that failed in the network (no HTTP response, a dropped connection) up to
    /// three times, waiting 0.5 s then 1 s, as huggingface_hub does; HTTP errors are not retried.
    /// A download resumes from what the earlier attempt wrote.
    static func retryingNetworkErrors<T>(_ body: () throws -> T) throws -> T {
        var delay = 0.5
        for _ in 1..<3 {
            do { return try body() } catch HubClient.HubError.network {
                Thread.sleep(forTimeInterval: delay)
                delay *= 2
            }
        }
        return try body()
    }

    static func request(_ url: URL, method: String, token: String?, followRedirects: Bool) throws -> Response {
        try retryingNetworkErrors { try requestOnce(url, method: method, token: token, followRedirects: followRedirects) }
    }

    private static func requestOnce(_ url: URL, method: String, token: String?, followRedirects: Bool) throws -> Response {
        var req = URLRequest(url: url, timeoutInterval: 60)
        req.httpMethod = method
        if let token { req.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let session = URLSession(configuration: .ephemeral, delegate: followRedirects ? nil : NoRedirect(), delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox(.failure(HubClient.HubError.network(url: url.absoluteString, reason: "no response")))
        session.dataTask(with: req) { _, response, error in
            if let http = response as? HTTPURLResponse {
                var headers: [String: String] = [:]
                for (k, v) in http.allHeaderFields { headers["\(k)"] = "\(v)" }
                box.result = .success(Response(status: http.statusCode, headers: headers))
            } else {
                box.result = .failure(HubClient.HubError.network(url: url.absoluteString, reason: error?.localizedDescription ?? "no HTTP response"))
            }
            done.signal()
        }.resume()
        done.wait()
        return try box.result.get()
    }

    /// The completion handler's result, handed to the waiting thread (the semaphore orders the accesses).
    final class ResultBox: @unchecked Sendable {
        var result: Result<Response, Error>
        init(_ result: Result<Response, Error>) { self.result = result }
    }

    /// Streams `url` into `file`, resuming from its current size with a `Range` request. URLSession
    /// calls it on one serial delegate queue; the caller reads it after `done` is signalled.
    final class Sink: NSObject, URLSessionDataDelegate, @unchecked Sendable {
        let handle: FileHandle
        var status = 0
        var received: Int64
        var expected: Int64 = -1
        var error: Error?
        let done = DispatchSemaphore(value: 0)
        let progress: (Int64, Int64) -> Void
        let resumedFrom: Int64

        init(handle: FileHandle, offset: Int64, progress: @escaping (Int64, Int64) -> Void) {
            self.handle = handle; received = offset; resumedFrom = offset; self.progress = progress
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
            let http = response as? HTTPURLResponse
            status = http?.statusCode ?? 0
            if status == 200 && resumedFrom > 0 {   // server ignored Range: start over
                handle.truncateFile(atOffset: 0)
                received = 0
            }
            if response.expectedContentLength >= 0 { expected = received + response.expectedContentLength }
            completionHandler(status == 200 || status == 206 ? .allow : .cancel)
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
            handle.write(data)
            received += Int64(data.count)
            progress(received, expected)
        }

        func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
            self.error = error
            done.signal()
        }
    }

    static func download(_ url: URL, to file: URL, token: String?, label: String, showProgress: Bool) throws {
        try retryingNetworkErrors { try downloadOnce(url, to: file, token: token, label: label, showProgress: showProgress) }
    }

    private static func downloadOnce(_ url: URL, to file: URL, token: String?, label: String, showProgress: Bool) throws {
        let fm = FileManager.default
        if !fm.fileExists(atPath: file.path) { _ = fm.createFile(atPath: file.path, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: file.path) else {
            throw HubClient.HubError.network(url: url.absoluteString, reason: "cannot write \(file.path)")
        }
        defer { try? handle.close() }
        let offset = Int64(handle.seekToEndOfFile())
        var req = URLRequest(url: url, timeoutInterval: 60)
        if let token { req.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if offset > 0 { req.setValue("bytes=\(offset)-", forHTTPHeaderField: "Range") }
        var bar: ProgressReporter?
        let sink = Sink(handle: handle, offset: offset) { got, total in
            guard showProgress else { return }
            if bar == nil { bar = ProgressReporter(total: max(0, Int(total)), label: "download \(label)", unit: .bytes) }
            bar?.update(Int(got))
        }
        let session = URLSession(configuration: .ephemeral, delegate: sink, delegateQueue: nil)
        session.dataTask(with: req).resume()
        sink.done.wait()
        session.finishTasksAndInvalidate()
        bar?.finish()
        if sink.status == 0 {   // no HTTP response at all: refused, reset, timed out
            throw HubClient.HubError.network(url: url.absoluteString, reason: sink.error?.localizedDescription ?? "no HTTP response")
        }
        if let e = sink.error, sink.status == 200 || sink.status == 206 {
            throw HubClient.HubError.network(url: url.absoluteString, reason: e.localizedDescription + " (partial file kept; run again to resume)")
        }
        guard sink.status == 200 || sink.status == 206 else { throw HubClient.HubError.http(status: sink.status, url: url.absoluteString) }
        if sink.expected >= 0 && sink.received != sink.expected {
            throw HubClient.HubError.network(url: url.absoluteString, reason: "received \(sink.received) of \(sink.expected) bytes (partial file kept; run again to resume)")
        }
    }
}
