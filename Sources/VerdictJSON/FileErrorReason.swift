import Foundation

/// A Foundation file error as a short reason a user reads ("no such file", "permission denied"),
/// without Foundation's error domain and code. Every target that reads or writes files words
/// their errors with it.
package func fileErrorReason(_ error: Error) -> String {
    let ns = error as NSError
    if let posix = ns.userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain {
        return String(cString: strerror(Int32(posix.code)))
    }
    if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
    switch ns.code {
    case NSFileWriteFileExistsError: return "a file or folder of that name exists"
    case NSFileWriteNoPermissionError, NSFileReadNoPermissionError: return "permission denied"
    case NSFileNoSuchFileError, NSFileReadNoSuchFileError: return "no such file or folder"
    case NSFileWriteOutOfSpaceError: return "no space left on the device"
    case NSFileReadCorruptFileError: return "not readable as expected"
    default: return ns.localizedFailureReason ?? "error \(ns.code)"
    }
}

/// Whether `error` is one of Foundation's own (whose default text names its domain and code).
package func isFoundationError(_ error: Error) -> Bool {
    [NSCocoaErrorDomain, NSPOSIXErrorDomain].contains((error as NSError).domain)
}
