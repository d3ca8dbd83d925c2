import Foundation
#if canImport(Glibc)
import Glibc
#endif
import KilnSupport

/// A connected Unix stream socket with line-oriented, deadline-bounded reads: the backdoor
/// shell and the QMP monitor both speak in lines.
final class LineSocket: @unchecked Sendable {
    private let fd: Int32
    private var buffer: [UInt8] = []
    private(set) var closed = false

    fileprivate init(fd: Int32) { self.fd = fd }
    deinit { if !closed { close(fd) } }

    /// Connects to `path`, retrying until `deadline` (QEMU creates the socket shortly after it starts).
    static func connect(path: String, deadline: Date, alive: () -> Bool) throws -> LineSocket {
        while true {
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw KilnError("socket(): \(String(cString: strerror(errno)))") }
            var addr: sockaddr_un
            do { addr = try unixAddress(path) } catch { close(fd); throw error }
            let rc = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            if rc == 0 { return LineSocket(fd: fd) }
            let err = errno
            close(fd)
            if Date() > deadline || !alive() {
                throw KilnError("cannot connect to \(path): \(String(cString: strerror(err)))")
            }
            usleep(50_000)
        }
    }

    func write(_ text: String) throws {
        var data = Array(text.utf8)
        while !data.isEmpty {
            let n = data.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw KilnError("writing to the machine's socket failed: \(String(cString: strerror(errno)))")
            }
            data.removeFirst(n)
        }
    }

    /// The next line (without its newline), or nil when `deadline` passes first.
    /// - Throws: when the other side closed the connection.
    func readLine(deadline: Date) throws -> String? {
        while true {
            if let nl = buffer.firstIndex(of: 10) {
                let line = String(decoding: buffer[..<nl], as: UTF8.self)
                buffer.removeSubrange(...nl)
                return line
            }
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { return nil }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let r = poll(&pfd, 1, Int32(min(remaining, 0.5) * 1000) + 1)
            if r < 0 && errno != EINTR { throw KilnError("poll failed: \(String(cString: strerror(errno)))") }
            if r <= 0 { continue }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { closed = true; close(fd); throw KilnError("the machine closed the connection") }
            if n < 0 { if errno == EINTR || errno == EAGAIN { continue }; throw KilnError("reading from the machine failed: \(String(cString: strerror(errno)))") }
            buffer += chunk[..<n]
        }
    }

    /// Reads lines until one contains `marker`; nil when `deadline` passes first.
    func readUntil(_ marker: String, deadline: Date) throws -> String? {
        while let line = try readLine(deadline: deadline) {
            if line.contains(marker) { return line }
        }
        return nil
    }

    func shutdown() {
        if !closed { closed = true; close(fd) }
    }
}

/// The sockaddr of a Unix socket path. - Throws: when the path does not fit (108 bytes).
fileprivate func unixAddress(_ path: String) throws -> sockaddr_un {
    var addr = sockaddr_un()
    addr.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
        throw KilnError("the socket path \(path) is too long for a Unix socket")
    }
    withUnsafeMutableBytes(of: &addr.sun_path) { raw in
        for (i, b) in bytes.enumerated() { raw[i] = b }
        raw[bytes.count] = 0
    }
    return addr
}

/// A listening Unix stream socket: the test driver (python3) connects to kiln through one.
final class ListeningSocket: @unchecked Sendable {
    private let fd: Int32
    let path: String

    init(path: String) throws {
        self.path = path
        unlink(path)
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw KilnError("socket(): \(String(cString: strerror(errno)))") }
        var addr: sockaddr_un
        do { addr = try unixAddress(path) } catch { close(fd); throw error }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0, listen(fd, 1) == 0 else {
            let err = String(cString: strerror(errno))
            close(fd)
            throw KilnError("cannot listen on \(path): \(err)")
        }
    }

    deinit { close(fd); unlink(path) }

    /// The first connection, or an error when `deadline` passes or `alive` turns false first.
    func accept(deadline: Date, alive: () -> Bool) throws -> LineSocket {
        while true {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let r = poll(&pfd, 1, 200)
            if r > 0 {
                let c = Glibc.accept(fd, nil, nil)
                if c >= 0 { return LineSocket(fd: c) }
                if errno != EINTR && errno != EAGAIN { throw KilnError("accept on \(path): \(String(cString: strerror(errno)))") }
            }
            if !alive() { throw KilnError("the test driver exited before it connected") }
            if Date() > deadline { throw KilnError("the test driver did not connect within 30 s") }
        }
    }
}

/// A user-space Ethernet hub over UDP on 127.0.0.1, so the machines of a test share a LAN
/// without root: each QEMU sends its frames to the hub's port (`-netdev socket,udp=…`) from
/// its own port, and the hub repeats every frame to every other machine's port.
public final class VirtualHub: @unchecked Sendable {
    private let fd: Int32
    public let port: UInt16
    private var members: [UInt16] = []
    private let lock = NSLock()
    private var stopped = false
    private var thread: Thread?

    public init() throws {
        let (fd, port) = try Self.bindUDP()
        self.fd = fd
        self.port = port
    }

    deinit { stop() }

    /// A free UDP port on 127.0.0.1 for a machine, joined to the hub.
    public func addMember() throws -> UInt16 {
        let (fd, port) = try Self.bindUDP()
        close(fd)
        lock.lock(); members.append(port); lock.unlock()
        return port
    }

    public func start() {
        let t = Thread { [weak self] in self?.loop() }
        t.name = "kiln-hub"
        thread = t
        t.start()
    }

    public func stop() {
        lock.lock(); defer { lock.unlock() }
        if !stopped { stopped = true; close(fd) }
    }

    private func loop() {
        var frame = [UInt8](repeating: 0, count: 65536)
        while true {
            lock.lock(); let done = stopped; let ports = members; lock.unlock()
            if done { return }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&pfd, 1, 200) <= 0 { continue }
            var from = sockaddr_in()
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            let n = frame.withUnsafeMutableBytes { buf in
                withUnsafeMutablePointer(to: &from) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, buf.baseAddress, buf.count, 0, $0, &len) }
                }
            }
            if n <= 0 { continue }
            let sender = UInt16(bigEndian: from.sin_port)
            for p in ports where p != sender {
                var to = Self.loopback(p)
                _ = frame.withUnsafeBytes { buf in
                    withUnsafePointer(to: &to) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            sendto(fd, buf.baseAddress, n, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                        }
                    }
                }
            }
        }
    }

    static func loopback(_ port: UInt16) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        return a
    }

    private static func bindUDP() throws -> (Int32, UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw KilnError("cannot create a UDP socket for the test network: \(String(cString: strerror(errno)))") }
        var a = loopback(0)
        let rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else { close(fd); throw KilnError("cannot bind a UDP port on 127.0.0.1 for the test network: \(String(cString: strerror(errno)))") }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return (fd, UInt16(bigEndian: a.sin_port))
    }
}
