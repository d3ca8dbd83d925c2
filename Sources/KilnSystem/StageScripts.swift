import KilnPlan
import KilnStore
import KilnSupport

/// The generation's stage-2 init and activation script (NixOS: stage-2-init.sh and
/// system.activationScripts): shell scripts run on the machine, written at build time.
enum StageScripts {
    /// Runs as PID 1 after stage 1: activates this generation, then becomes systemd.
    static func stage2Init(bash: String, systemd: String) -> String {
        """
        #!\(bash)
        # Kiln stage 2: activate this generation, then run systemd as PID 1.
        systemConfig=$(cd "${0%/*}" && pwd -P)
        export PATH=/run/current-system/sw/bin:/run/current-system/sw/sbin
        echo "kiln stage 2: activating $systemConfig"
        "$systemConfig/activate" || echo "kiln stage 2: activation failed"
        exec \(systemd) "$@"

        """
    }

    /// Makes the running system match the generation: /etc links, account files, directories.
    /// It runs at boot (from stage 2) and on a switch; it is quick when /etc already is this
    /// generation's (an image ships it so), and otherwise relinks /etc through /etc/static,
    /// removes the links the previous generation made that this one does not, and merges the
    /// account files: the declared accounts with their ids, plus accounts made on the machine
    /// (useradd); with mutableUsers, a password changed on the machine is kept.
    static func activate(bash: String, etc: GeneratedObject, users: [User], mutableUsers: Bool = true) -> String {
        var s = """
        #!\(bash)
        # Kiln activation: make / match the generation this script belongs to.
        set -e
        systemConfig=$(cd "${0%/*}" && pwd -P)
        export PATH=/run/current-system/sw/bin:/run/current-system/sw/sbin
        umask 022
        mkdir -p /etc /var/log /var/lib /var/cache /var/spool /root /home /tmp /var/tmp
        chmod 1777 /tmp /var/tmp
        chmod 0700 /root
        ln -sfn "$systemConfig" /run/current-system
        ln -sfn /proc/self/mounts /etc/mtab
        # Links into the generation's /etc (through /etc/static, so a switch swaps one link).

        """
        let (dirs, links) = EtcTree.layout(etc)
        // The image is written with /etc already linked to its own generation: a boot of the
        // generation the disk was made with skips the hundreds of `ln` (seconds under TCG).
        s += "if [ \"$(readlink /etc/static)\" != \"$systemConfig/etc\" ]; then\n"
        s += "ln -sfn \"$systemConfig/etc\" /etc/static\n"
        s += "mkdir -p " + dirs.map { "'/etc/\($0)'" }.joined(separator: " ") + "\n"
        for rel in links {
            // Existing links already go through /etc/static (switched above): only new ones
            // are made, with a test that forks nothing.
            s += "[ -L '/etc/\(rel)' ] || ln -sfn '/etc/static/\(rel)' '/etc/\(rel)'\n"
        }
        s += """
        # The previous generation's links that this one does not have go (only links into
        # /etc/static: files made on the machine stay).
        new_links=$(mktemp)
        cat >"$new_links" <<'KILN_LINKS'
        \(links.joined(separator: "\n"))
        KILN_LINKS
        if [ -f /etc/.kiln-links ]; then
          declare -A wanted=()
          while IFS= read -r rel; do wanted[$rel]=1; done <"$new_links"
          while IFS= read -r rel; do
            [ -n "$rel" ] && [ -z "${wanted[$rel]:-}" ] || continue
            case $(readlink "/etc/$rel" 2>/dev/null) in /etc/static/*) rm -f "/etc/$rel" ;; esac
          done </etc/.kiln-links
        fi
        mv -f "$new_links" /etc/.kiln-links
        # Accounts: the declared ones (ids from the build, which kept the machine's), then
        # those made on the machine that the configuration does not declare.
        merge() { # FILE KEEP-PASSWORDS
          local f=$1 keep=$2 tmp
          tmp=$(mktemp /etc/.kiln-$f.XXXXXX)
          if [ -f "/etc/$f" ] && [ ! -L "/etc/$f" ]; then
            awk -F: -v keep="$keep" -v OFS=: '
              FNR == NR { if (keep) old[$1] = $2; seen[$1] = 1; line[$1] = $0; order[++n] = $1; next }
              { if (keep && ($1 in old)) { $2 = old[$1] }; print; declared[$1] = 1 }
              END { for (i = 1; i <= n; i++) if (!(order[i] in declared)) print line[order[i]] }
            ' "/etc/$f" "/etc/static/$f" >"$tmp"
          else
            cp "/etc/static/$f" "$tmp"
          fi
          mv -f "$tmp" "/etc/$f"
        }
        merge passwd 0; merge group 0
        merge shadow \(mutableUsers ? 1 : 0); merge gshadow \(mutableUsers ? 1 : 0)
        chmod 0644 /etc/passwd /etc/group
        chown 0:42 /etc/shadow /etc/gshadow; chmod 0640 /etc/shadow /etc/gshadow
        fi

        """
        for u in users where u.createHome {
            s += "if [ ! -d '\(u.home)' ]; then mkdir -p '\(u.home)'; chown '\(u.name):' '\(u.home)'; chmod 0700 '\(u.home)'; fi\n"
        }
        // hashedPasswordFile: the hash comes from the machine at every activation, never
        // from the image (NixOS reads it at activation too).
        let fromFiles = users.compactMap { u in u.hashedPasswordFile.map { (u.name, $0) } }
        if !fromFiles.isEmpty {
            s += """
                set_hash_from() { # USER FILE
                  local h tmp
                  if [ ! -r "$2" ]; then echo "kiln activation: $2 (users.users.$1.hashedPasswordFile) is missing; $1's password is unchanged" >&2; return 0; fi
                  h=$(head -n 1 "$2")
                  case $h in *:*) echo "kiln activation: $2 holds a ':', not a password hash; $1's password is unchanged" >&2; return 0 ;; esac
                  tmp=$(mktemp /etc/.kiln-shadow.XXXXXX)
                  H=$h awk -F: -v OFS=: -v u="$1" '$1 == u { $2 = ENVIRON["H"] } { print }' /etc/shadow >"$tmp"
                  chown 0:42 "$tmp"; chmod 0640 "$tmp"; mv -f "$tmp" /etc/shadow
                }

                """
            for (name, file) in fromFiles { s += "set_hash_from \(Tool.shellQuoted([name, file]))\n" }
        }
        return s
    }
}
