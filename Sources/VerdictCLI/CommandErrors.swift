import ArgumentParser
import Foundation
import VerdictCommandSupport

extension ParsableCommand {
    /// `VerdictCommandSupport.reportingErrors`, with a usage error found while the command runs
    /// (a recipe's setting, a label set) shown with this subcommand's usage, as argument-parser
    /// shows one found while parsing, instead of the top-level `verdict <subcommand>`.
    func reportingErrors<T>(_ body: () throws -> T) throws -> T {
        do {
            return try VerdictCommandSupport.reportingErrors(body)
        } catch let error as ValidationError {
            let usage = VerdictCommand.usageString(for: Self.self)
            let name = Self.configuration.commandName ?? ""
            FileHandle.standardError.write(Data("Error: \(error.message)\nUsage: \(usage)\n  See 'verdict \(name) --help' for more information.\n".utf8))
            throw ExitCode.validationFailure
        }
    }
}
