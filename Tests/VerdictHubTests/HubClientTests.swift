import Foundation
import VerdictTestSupport
import XCTest
@testable import VerdictHub

/// The Hub client against a local server with the Hub's URL layout, redirects and ETags.
final class HubClientTests: XCTestCase {
    static let tinyModel = Repository.fixture("models/tiny-bert-safetensors-fp32")

    func makeServer() throws -> LocalHubServer {
        var files: [String: LocalHubServer.File] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: Self.tinyModel.path) {
            files[name] = .init(data: try Data(contentsOf: Self.tinyModel.appendingPathComponent(name)), lfs: name.hasSuffix(".safetensors"))
        }
        let server = LocalHubServer(repo: "verdict-tests/tiny-bert", files: files)
        try server.start()
        return server
    }

    func temporaryCache() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("verdict-hub-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    func testDownloadBuildsTheCacheLayoutAndResolvesOffline() throws {
        let server = try makeServer()
        defer { server.stop() }
        let cache = try temporaryCache()
        var client = HubClient(endpoint: server.endpoint, cacheRoot: cache)
        client.showProgress = false
        let snapshot = try client.snapshot(repo: "verdict-tests/tiny-bert")
        XCTAssertEqual(snapshot.lastPathComponent, server.commit)
        let repoFolder = ModelLocation.cacheFolder(for: "verdict-tests/tiny-bert", root: cache)
        XCTAssertEqual(try String(contentsOf: repoFolder.appendingPathComponent("refs/main"), encoding: .utf8), server.commit)
        let weights = snapshot.appendingPathComponent("model.safetensors")
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: weights.path),
                       "../../blobs/" + LocalHubServer.etag(server.files["model.safetensors"]!.data))
        XCTAssertEqual(try Data(contentsOf: weights), server.files["model.safetensors"]!.data)
        XCTAssertTrue(server.requests.contains { $0.hasPrefix("GET /cdn/") }, "large files follow the redirect")
        XCTAssertNoThrow(try Checkpoint(folder: snapshot))

        // Offline: the cache answers without a request.
        let before = server.requests.count
        var offline = HubClient(endpoint: server.endpoint, offline: true, cacheRoot: cache)
        offline.showProgress = false
        XCTAssertEqual(try offline.snapshot(repo: "verdict-tests/tiny-bert"), snapshot)
        XCTAssertEqual(server.requests.count, before)
        XCTAssertThrowsError(try offline.snapshot(repo: "verdict-tests/other")) { e in
            XCTAssertEqual(e as? HubClient.HubError, .offlineAndNotCached(repo: "verdict-tests/other"))
        }
    }

    func testResumesPartialDownloadWithRange() throws {
        let server = try makeServer()
        defer { server.stop() }
        let cache = try temporaryCache()
        let body = server.files["model.safetensors"]!.data
        let blobs = ModelLocation.cacheFolder(for: "verdict-tests/tiny-bert", root: cache).appendingPathComponent("blobs")
        try FileManager.default.createDirectory(at: blobs, withIntermediateDirectories: true)
        try body.prefix(1000).write(to: blobs.appendingPathComponent(LocalHubServer.etag(body) + ".incomplete"))
        var client = HubClient(endpoint: server.endpoint, cacheRoot: cache)
        client.showProgress = false
        let snapshot = try client.snapshot(repo: "verdict-tests/tiny-bert")
        XCTAssertTrue(server.requests.contains { $0.contains("Range: bytes=1000-") }, "\(server.requests)")
        XCTAssertEqual(try Data(contentsOf: snapshot.appendingPathComponent("model.safetensors")), body)
        XCTAssertFalse(FileManager.default.fileExists(atPath: blobs.appendingPathComponent(LocalHubServer.etag(body) + ".incomplete").path))
    }

    func testTokenAndMissingRepository() throws {
        let server = try makeServer()
        defer { server.stop() }
        server.requiredToken = "hf_secret"
        let cache = try temporaryCache()
        var anonymous = HubClient(endpoint: server.endpoint, cacheRoot: cache)
        anonymous.showProgress = false
        XCTAssertThrowsError(try anonymous.snapshot(repo: "verdict-tests/tiny-bert")) { e in
            XCTAssertTrue("\(e)".contains("401") && "\(e)".contains("HF_TOKEN"), "\(e)")
        }
        var authorised = HubClient(endpoint: server.endpoint, token: "hf_secret", cacheRoot: cache)
        authorised.showProgress = false
        XCTAssertNoThrow(try authorised.snapshot(repo: "verdict-tests/tiny-bert"))
        XCTAssertThrowsError(try authorised.snapshot(repo: "verdict-tests/absent")) { e in XCTAssertTrue("\(e)".contains("404"), "\(e)") }
        XCTAssertThrowsError(try authorised.snapshot(repo: "../etc/passwd")) { e in
            XCTAssertEqual(e as? HubClient.HubError, .invalidRepoId("../etc/passwd"))
        }
    }

    func testEnvironment() throws {
        let c = try HubClient(environment: ["HF_ENDPOINT": "http://127.0.0.1:1", "HF_TOKEN": "t", "HF_HUB_OFFLINE": "1"])
        XCTAssertEqual(c.endpoint.absoluteString, "http://127.0.0.1:1")
        XCTAssertEqual(c.token, "t")
        XCTAssertTrue(c.offline)
        // An endpoint that is not an http(s) URL is an error, not a crash.
        for bad in ["not a url", "ftp://example.com", "http://"] {
            XCTAssertThrowsError(try HubClient(environment: ["HF_ENDPOINT": bad])) { error in
                XCTAssertEqual(error as? HubClient.HubError, .invalidEndpoint(bad))
            }
        }
    }
}
