import ArgumentParser
import Foundation
import Verdict
import VerdictJSON

/// Runs a command body; library errors are printed to stderr as one line (no stack trace) and
/// the process exits non-zero. Argument errors keep argument-parser's usage output.
package func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let e as ValidationError {
        throw e
    } catch let e as ExitCode {
        throw e
    } catch let e as DefaultModel.NotFound {
        // The library's message names the library's remedies; on the command line the remedy is a flag.
        let searched = e.searched.joined(separator: ", ")
        FileHandle.standardError.write(Data("error: the default model was not found (searched \(searched)); pass --model DIR|ID or set VERDICT_DEFAULT_MODEL\n".utf8))
        throw ExitCode.failure
    } catch let error as DecodingError {
        FileHandle.standardError.write(Data("error: \(describe(error, file: "input"))\n".utf8))
        throw ExitCode.failure
    } catch {
        // Foundation's own errors print their domain and code: say what failed instead.
        let ns = error as NSError
        let text = isFoundationError(error)
            ? ((ns.userInfo[NSFilePathErrorKey] as? String).map { "\($0): " } ?? "") + fileErrorReason(error)
            : "\(error)"
        FileHandle.standardError.write(Data("error: \(text)\n".utf8))
        throw ExitCode.failure
    }
}
