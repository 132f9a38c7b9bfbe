import ArgumentParser
import Foundation

/// Runs a command body; library errors are printed to stderr as one line (no stack trace) and
/// the process exits non-zero. Argument errors keep argument-parser's usage output.
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let e as ValidationError {
        throw e
    } catch let e as ExitCode {
        throw e
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode.failure
    }
}
