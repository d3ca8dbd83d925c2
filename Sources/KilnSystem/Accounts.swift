import Foundation
import KilnPlan
import KilnSupport

/// The ids a machine's accounts have now (its /etc/passwd and /etc/group), which a new
/// generation keeps: a user added before alice must not take alice's uid (NixOS keeps
/// /var/lib/nixos/uid-map for the same reason).
public struct PreviousAccounts: Sendable {
    public var uids: [String: Int]
    public var gids: [String: Int]

    public init(passwd: String, group: String) {
        func ids(_ text: String) -> [String: Int] {
            var out: [String: Int] = [:]
            for line in text.split(separator: "\n") {
                let f = line.split(separator: ":", omittingEmptySubsequences: false)
                if f.count > 2, let id = Int(f[2]) { out[String(f[0])] = id }
            }
            return out
        }
        uids = ids(passwd); gids = ids(group)
    }
}

/// passwd, group, shadow and gshadow from the declared users, over Debian's base accounts.
public struct Accounts: Sendable {
    public private(set) var passwd = "", group = "", shadow = "", gshadow = ""
    /// Every account's and group's id by name.
    public private(set) var uids: [String: Int] = [:], gids: [String: Int] = [:]

    /// An owner as NixOS writes it: "+N" for id N, or a name from `table`.
    public func id(_ owner: String, in table: [String: Int], option: String) throws -> UInt32 {
        if owner.hasPrefix("+"), let n = UInt32(owner.dropFirst()) { return n }
        guard let n = table[owner] else {
            throw KilnError("the option '\(option)' is '\(owner)', which is neither \"+N\" nor a declared name")
        }
        return UInt32(n)
    }

    static let baseGroups: [(String, Int)] = [
        ("root", 0), ("daemon", 1), ("bin", 2), ("sys", 3), ("adm", 4), ("tty", 5), ("disk", 6), ("lp", 7), ("mail", 8),
        ("news", 9), ("uucp", 10), ("man", 12), ("proxy", 13), ("kmem", 15), ("dialout", 20), ("fax", 21), ("voice", 22),
        ("cdrom", 24), ("floppy", 25), ("tape", 26), ("sudo", 27), ("audio", 29), ("dip", 30), ("www-data", 33),
        ("backup", 34), ("operator", 37), ("list", 38), ("irc", 39), ("src", 40), ("shadow", 42), ("utmp", 43),
        ("video", 44), ("sasl", 45), ("plugdev", 46), ("staff", 50), ("games", 60), ("users", 100), ("nogroup", 65534),
    ]

    /// Users and groups without a given id get one in a stable order (by name, as the
    /// configuration lists them): normal users from 1000 up, system users and groups from
    /// 999 down, as NixOS allocates them.
    public init(users: [User], groups declared: [Group] = [], seed: [UInt8], previous: PreviousAccounts? = nil) throws {
        var members: [String: [String]] = [:]
        var allGroups = Self.baseGroups
        var usedGIDs = Set(allGroups.map(\.1))
        var nextSystemGID = 999
        for g in declared.sorted(by: { $0.name < $1.name }) {
            for m in g.members { members[g.name, default: []].append(m) }
            if let i = allGroups.firstIndex(where: { $0.0 == g.name }) {
                if let gid = g.gid, gid != allGroups[i].1 {
                    throw KilnError("users.groups.\(g.name).gid is \(gid), but \(g.name) is a Debian base group with gid \(allGroups[i].1)")
                }
                continue
            }
            let gid: Int
            if let given = g.gid { gid = given } else if let was = previous?.gids[g.name], !usedGIDs.contains(was),
                                                          !declared.contains(where: { $0.gid == was }) {
                gid = was
            } else {
                while usedGIDs.contains(nextSystemGID) || previous?.gids.values.contains(nextSystemGID) == true { nextSystemGID -= 1 }
                gid = nextSystemGID
            }
            guard !usedGIDs.contains(gid) else {
                throw KilnError("users.groups.\(g.name).gid is \(gid), which another group already has")
            }
            usedGIDs.insert(gid)
            allGroups.append((g.name, gid))
        }
        allGroups.sort { $0.1 < $1.1 }
        var lines: [(Int, String, String)] = [  // uid, passwd line, shadow line
            (1, "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin", "daemon:*:1:0:99999:7:::"),
            (2, "bin:x:2:2:bin:/bin:/usr/sbin/nologin", "bin:*:1:0:99999:7:::"),
            (3, "sys:x:3:3:sys:/dev:/usr/sbin/nologin", "sys:*:1:0:99999:7:::"),
            (65534, "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin", "nobody:*:1:0:99999:7:::"),
        ]
        let groupIDs = Dictionary(allGroups, uniquingKeysWith: { a, _ in a })
        var usedUIDs = Set(lines.map(\.0) + users.compactMap(\.uid))
        // Ids the machine gave its accounts stay theirs; new ones skip every id in use there.
        let keptUIDs = Dictionary(users.compactMap { u -> (String, Int)? in
            guard u.uid == nil, u.name != "root", let was = previous?.uids[u.name], !usedUIDs.contains(was) else { return nil }
            return (u.name, was)
        }, uniquingKeysWith: { a, _ in a })
        usedUIDs.formUnion(keptUIDs.values)
        usedUIDs.formUnion(previous?.uids.values.map { $0 } ?? [])
        var nextUID = 1000, nextSystemUID = 999
        for u in users {
            let uid: Int
            if let given = u.uid { uid = given } else if u.name == "root" { uid = 0 } else if let was = keptUIDs[u.name] {
                uid = was
            } else if u.isSystemUser {
                while usedUIDs.contains(nextSystemUID) { nextSystemUID -= 1 }
                uid = nextSystemUID; usedUIDs.insert(uid)
            } else {
                while usedUIDs.contains(nextUID) { nextUID += 1 }
                uid = nextUID; usedUIDs.insert(uid)
            }
            guard let gid = groupIDs[u.group] else {
                throw KilnError("users.users.\(u.name).group is '\(u.group)', which is not a known group")
            }
            for g in u.extraGroups { members[g, default: []].append(u.name) }
            let hash: String
            if let h = u.hashedPassword { hash = h } else if let p = u.initialPassword {
                hash = try PasswordHash.hash(p, user: u.name, seed: seed)
            } else { hash = "!" }
            lines.append((uid, "\(u.name):x:\(uid):\(gid):\(u.description):\(u.home):\(u.shell)", "\(u.name):\(hash):1:0:99999:7:::"))
        }
        lines.sort { $0.0 < $1.0 }
        for (uid, line, _) in lines { uids[String(line.prefix { $0 != ":" })] = uid }
        gids = groupIDs
        // A user named in both extraGroups and the group's members is listed once.
        members = members.mapValues { names in var seen = Set<String>(); return names.filter { seen.insert($0).inserted } }
        passwd = lines.map(\.1).joined(separator: "\n") + "\n"
        shadow = lines.map(\.2).joined(separator: "\n") + "\n"
        group = allGroups.map { "\($0.0):x:\($0.1):\((members[$0.0] ?? []).joined(separator: ","))" }.joined(separator: "\n") + "\n"
        gshadow = allGroups.map { "\($0.0):*::\((members[$0.0] ?? []).joined(separator: ","))" }.joined(separator: "\n") + "\n"
    }
}
