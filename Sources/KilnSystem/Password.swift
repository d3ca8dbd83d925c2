import Foundation
import Crypto
import CCrypt
import KilnSupport

/// Password hashing with the system's libcrypt, so the image never holds a plain password.
enum PasswordHash {
    /// SHA-512 crypt (`$6$`), which every PAM in the target reads, with a salt derived from
    /// the image seed and the user name: random-looking, but reproducible.
    static func hash(_ password: String, user: String, seed: [UInt8]) throws -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("password-salt:\(user)".utf8), using: SymmetricKey(data: seed))
        let alphabet = Array("./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        let salt = String(Array(mac).prefix(16).map { alphabet[Int($0) % alphabet.count] })
        let data = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<crypt_data>.size, alignment: 16)
        defer { data.deallocate() }
        memset(data, 0, MemoryLayout<crypt_data>.size)
        let cd = data.bindMemory(to: crypt_data.self, capacity: 1)
        guard let out = crypt_r(password, "$6$" + salt, cd) else {
            throw KilnError("libcrypt could not hash the password of user '\(user)': \(String(cString: strerror(errno)))")
        }
        let result = String(cString: out)
        guard result.hasPrefix("$6$") else { throw KilnError("libcrypt could not hash the password of user '\(user)'") }
        return result
    }
}
