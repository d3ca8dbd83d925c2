import KilnPlan
import KilnStore

/// The generation's stage-2 init and activation script (NixOS: stage-2-init.sh and
/// system.activationScripts): shell scripts run on the machine, written at build time.
enum StageScripts {
    /// Runs as PID 1 after stage 1: activates this generation, then becomes systemd.
    static func stage2Init(bash: String, systemd: String) -> String {
        """
        #!\(bash)
        # Kiln stage 2: activate this generation, then run systemd as PID 1.
        systemConfig="${0%/*}"
        export PATH=/run/current-system/sw/bin:/run/current-system/sw/sbin
        echo "kiln stage 2: activating $systemConfig"
        "$systemConfig/activate" || echo "kiln stage 2: activation failed"
        exec \(systemd) "$@"

        """
    }

    /// Makes the running system match the generation: /etc links, account files, directories.
    static func activate(bash: String, etc: GeneratedObject, users: [User]) -> String {
        var s = """
        #!\(bash)
        # Kiln activation: make / match the generation this script belongs to.
        set -e
        systemConfig="${0%/*}"
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
            s += "ln -sfn '/etc/static/\(rel)' '/etc/\(rel)'\n"
        }
        s += """
        # Account files are copied: passwd and friends must be writable by the system's tools.
        for f in passwd group; do cp --remove-destination "/etc/static/$f" "/etc/$f"; chmod 0644 "/etc/$f"; done
        for f in shadow gshadow; do cp --remove-destination "/etc/static/$f" "/etc/$f"; chown 0:42 "/etc/$f"; chmod 0640 "/etc/$f"; done
        fi

        """
        for u in users where u.createHome {
            s += "if [ ! -d '\(u.home)' ]; then mkdir -p '\(u.home)'; chown '\(u.name):' '\(u.home)'; chmod 0700 '\(u.home)'; fi\n"
        }
        return s
    }
}
