# The corpus's CI runner (Tests/nixos-configs/ci-runner), unchanged, booted as the machine it
# describes: Docker runs the configuration's scheduled job in a container and publishes a
# port through its own NAT, Podman runs a container without a daemon. Nothing can be pulled
# here, so the test imports an image made of the machine's own static busybox. Beside it,
# the developer workstation (Tests/nixos-configs/workstation): its shell, editor, git,
# tmux, direnv, GnuPG agent, Docker, libvirt (a VM on its NAT network) and toolchains, each
# used as its user uses them, and
# earlyoom watching memory, /tmp in memory; and the
# bastion (Tests/nixos-configs/bastion), through which the workstation reaches the runner.
{ lib, ... }:
{
  name = "corpus-ci";
  nodes.ci = { pkgs, ... }: {
    imports = [ ../Tests/nixos-configs/ci-runner/configuration.nix ];
    environment.systemPackages = [ pkgs.busybox-static pkgs.curl ];
  };
  nodes.devbox = { imports = [ ../Tests/nixos-configs/workstation/configuration.nix ]; };
  nodes.bastion = { imports = [ ../Tests/nixos-configs/bastion/configuration.nix ]; };

  testScript = ''
    start_all()
    ci.wait_for_unit("docker.service")
    ci.succeed("mkdir -p /tmp/img/bin && cp /bin/busybox /tmp/img/bin/ && for t in sh echo uname cat httpd; do ln -s busybox /tmp/img/bin/$t; done")

    with subtest("ci: dockerd runs with the configuration's daemon.json, the runner may use it"):
        info = ci.succeed("docker info --format '{{.Driver}} {{.CgroupVersion}} {{.LoggingDriver}}'").split()
        assert info == ["overlay2", "2", "journald"], info
        ci.succeed("tar -C /tmp/img -c . | docker import - local/build-env")
        ci.succeed("runuser -u runner -- docker image inspect local/build-env > /dev/null")
        ci.fail("runuser -u ops -- docker ps")

    with subtest("ci: the configuration's job runs in a container and leaves its result on the host"):
        ci.succeed("systemctl start ci-job-build.service")
        assert ci.succeed("cat /var/lib/ci/build/result.txt").startswith("built on "), ci.succeed("cat /var/lib/ci/build/result.txt")
        ci.wait_for_unit("ci-job-build.timer")
        ci.wait_for_unit("docker-prune.timer")

    with subtest("ci: a published port reaches a container through Docker's NAT, on the address pool asked for"):
        ci.succeed("docker run -d --name web -p 8080:80 local/build-env httpd -f -p 80 -h /bin")
        ip = ci.succeed("ip -4 -o addr show scope global | awk '{print $4}' | cut -d/ -f1 | grep -v '^172\\.' | head -1").strip()
        ci.wait_until_succeeds(f"curl -fsS -o /dev/null http://{ip}:8080/echo", timeout=60)
        assert ci.succeed("docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' web").startswith("172.30.")
        ci.succeed("docker rm -f web")

    with subtest("ci: Podman runs a container without a daemon"):
        ci.succeed("tar -C /tmp/img -c . | podman import - local/build-env")
        assert ci.succeed("podman run --rm --network none local/build-env echo from podman").strip() == "from podman"

    bob = "runuser -u bob --"
    with subtest("devbox: bob's login shell is zsh with the configuration's aliases, completion, suggestions and direnv"):
        devbox.wait_for_unit("multi-user.target")
        assert devbox.succeed("getent passwd bob | cut -d: -f7").strip().endswith("/zsh")
        # setsid: an interactive shell on the backdoor's terminal would take it over
        out = devbox.succeed(f"{bob} setsid -w zsh -i -c 'alias gs; whence -w compinit _zsh_autosuggest_start _zsh_highlight _direnv_hook' < /dev/null")
        assert "gs='git status'" in out and out.count("function") == 4, out
        devbox.succeed("grep -q 'direnv hook bash' /etc/bash.bashrc")
        devbox.succeed(f"{bob} sh -c 'mkdir -p ~/proj && echo export GREETING=from-envrc > ~/proj/.envrc && cd ~/proj && direnv allow'")
        status, out = devbox.execute(f"{bob} env -C /home/bob direnv exec /home/bob/proj sh -c 'echo $GREETING' 2>&1")
        assert status == 0 and out.strip().endswith("from-envrc"), out

    with subtest("devbox: neovim is the editor and vi/vim; git has the configuration's defaults, LFS and alias"):
        assert devbox.succeed(f"{bob} bash -lc 'echo $EDITOR'").strip().endswith("nvim")
        assert "NVIM" in devbox.succeed("vim --version | head -1") and "NVIM" in devbox.succeed("vi --version | head -1")
        devbox.succeed(f"{bob} sh -c 'cd ~ && git init -q repo && cd repo && git -c user.email=b@x -c user.name=b commit -q --allow-empty -m one && git lg'")
        assert devbox.succeed(f"{bob} git -C /home/bob/repo branch --show-current").strip() == "main"
        assert devbox.succeed("git config --system pull.rebase").strip() == "true"
        devbox.succeed(f"{bob} git lfs version")

    with subtest("devbox: tmux takes vi keys, sysctl raises inotify's watches, the GnuPG agent serves SSH"):
        devbox.succeed(f"{bob} tmux new-session -d -s t")
        assert devbox.succeed(f"{bob} tmux show-options -g status-keys").split() == ["status-keys", "vi"]
        devbox.succeed(f"{bob} tmux kill-server")
        assert devbox.succeed("sysctl -n fs.inotify.max_user_watches").strip() == "524288"
        devbox.succeed("loginctl enable-linger bob")
        # bob's systemd listens on the agent's SSH socket
        devbox.wait_until_succeeds("test -S /run/user/$(id -u bob)/gnupg/S.gpg-agent.ssh", timeout=60)
        # and through bob's own bus, as a NixOS user asks his systemd
        devbox.wait_until_succeeds("systemctl --user -M bob@ is-active gpg-agent-ssh.socket", timeout=60)

    with subtest("devbox: the toolchains and tools answer under their nixpkgs names, bob uses Docker"):
        devbox.succeed("python3 -c 'import requests, pytest'")
        # gcc finds cc1, crt*.o and libgcc from its real path: they are three packages' files,
        # which only the system path has together.
        devbox.succeed("printf '#include <stdio.h>\\nint main(void) { puts(\"hello from C\"); return 0; }\\n' > /tmp/hello.c")
        devbox.succeed("printf '#include <iostream>\\nint main() { std::cout << \"hello from C++\\\\n\"; }\\n' > /tmp/hello.cc")
        devbox.succeed("printf 'hello: hello.c\\n\\tcc -O2 -o $@ $<\\n' > /tmp/Makefile")
        devbox.succeed(f"chown bob /tmp/hello.c /tmp/hello.cc /tmp/Makefile")
        assert devbox.succeed(f"{bob} make -C /tmp && /tmp/hello").strip().endswith("hello from C")
        assert devbox.succeed(f"{bob} c++ -o /tmp/hello++ /tmp/hello.cc && /tmp/hello++").strip() == "hello from C++"
        for tool in ["cc", "make", "fd", "bat", "rg", "jq", "yq", "node", "cargo", "rustc", "cmake", "pkg-config", "shellcheck", "gh", "hyperfine", "htop", "mtr", "tree", "file", "wget"]:
            devbox.succeed(f"{tool} --version")
        devbox.succeed("go version && unzip -v > /dev/null")
        # programs.mtr: bob's mtr sends its probes through mtr-packet's capability (security.wrappers)
        assert devbox.succeed("getcap /run/wrappers/bin/mtr-packet").split()[-1] == "cap_net_raw=ep"
        login = "setsid -w runuser -l bob -c"
        assert devbox.succeed(f"{login} 'command -v mtr-packet' < /dev/null").strip() == "/run/wrappers/bin/mtr-packet"
        # bob's login zsh has the configuration's variables, expanded for him as NixOS does
        assert devbox.succeed(f"{login} 'echo $EDITOR $GOPATH' < /dev/null").strip() == "nvim /home/bob/go"
        ci_ip = devbox.succeed("getent hosts ci").split()[0]
        status, report = devbox.execute(f"{login} 'mtr --report --report-cycles 1 --no-dns ci 2>&1' < /dev/null")
        assert status == 0 and ci_ip in report, (status, report)
        devbox.wait_for_unit("docker.service")
        devbox.succeed(f"{bob} docker info > /dev/null")

    with subtest("devbox: /tmp is a tmpfs; earlyoom watches memory with the configuration's threshold"):
        assert devbox.succeed("findmnt -n -o FSTYPE /tmp").strip() == "tmpfs"
        devbox.wait_for_unit("earlyoom.service")
        # earlyoom states its thresholds when it starts: SIGTERM at 5 % of memory.
        devbox.wait_until_succeeds("journalctl -u earlyoom.service -b | grep -q 'sending SIGTERM when mem <=  5.00%'", timeout=60)

    with subtest("devbox: bob runs a VM through libvirt on its default NAT network"):
        virsh = f"{bob} virsh -c qemu:///system"
        # bob is in libvirtd: polkit lets him manage the system's VMs, and nobody else
        assert "default" in devbox.succeed(f"{virsh} net-list --all")
        assert "polkit" in devbox.fail("runuser -u nobody -- virsh -c qemu:///system list 2>&1")
        devbox.succeed(f"{virsh} net-start default")
        assert "inet 192.168.122.1/24" in devbox.succeed("ip -4 addr show virbr0")
        devbox.succeed("pgrep -f 'dnsmasq --conf-file=/var/lib/libvirt/dnsmasq/default.conf'")
        devbox.succeed(
            "printf '%s' \"<domain type='qemu'><name>scratch</name><memory unit='MiB'>48</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64' machine='pc'>hvm</type><boot dev='network'/></os><devices>"
            "<interface type='network'><source network='default'/><mac address='52:54:00:6b:69:6c'/><model type='virtio'/></interface>"
            "<serial type='pty'/><graphics type='vnc'/></devices></domain>\" > /tmp/scratch.xml"
        )
        devbox.succeed(f"{virsh} define /tmp/scratch.xml")
        devbox.succeed(f"{virsh} start scratch")
        assert devbox.succeed(f"{virsh} domstate scratch").strip() == "running"
        # QEMU runs it (as root: qemu.runAsRoot), its tap is on the bridge, virtlogd keeps its log
        assert devbox.succeed("ps -o user= -C qemu-system-x86_64").split() == ["root"]
        assert "vnet" in devbox.succeed("ip -o link show master virbr0")
        devbox.succeed("grep -q 'qemu-system-x86_64' /var/log/libvirt/qemu/scratch.log")
        # and its CPU runs (QEMU inside this emulated machine is too slow to reach the network
        # boot's DHCP within a test: over 300 s)
        def cpu_time():
            stats = devbox.succeed(f"{virsh} domstats scratch --vcpu")
            return int(next(l.split("=")[1] for l in stats.split() if l.startswith("vcpu.0.time=")))
        first = cpu_time()
        devbox.wait_until_succeeds(f"test $({virsh} domstats scratch --vcpu | sed -n 's/.*vcpu.0.time=//p') -gt {first}", timeout=60)
        devbox.succeed(f"{virsh} destroy scratch")
        devbox.succeed(f"{virsh} undefine scratch")
        # QEMU run by hand finds its TCG module and SeaBIOS, which other packages ship, too
        out = devbox.succeed(f"echo quit | {bob} qemu-system-x86_64 -machine pc -accel tcg -nodefaults -display none -S -monitor stdio 2>&1")
        assert "could not" not in out, out

    with subtest("bastion: a contractor only passes through to the LAN, an admin logs in, fail2ban watches the port"):
        bastion.wait_for_unit("sshd.service")
        bastion.succeed("sshd -t")
        sshd = bastion.succeed("sshd -T")
        assert "port 2222" in sshd and "permitrootlogin no" in sshd and "maxauthtries 3" in sshd, sshd
        # The test's own key, for a contractor and the admin here and the admin on the runner.
        devbox.succeed("mkdir -p -m 700 /root/.ssh && ssh-keygen -q -t ed25519 -N ''' -f /root/.ssh/id_ed25519")
        devbox.succeed("printf 'Host *\\n  StrictHostKeyChecking no\\n  UserKnownHostsFile /dev/null\\n  BatchMode yes\\n  LogLevel ERROR\\n' > /root/.ssh/config")
        key = devbox.succeed("cat /root/.ssh/id_ed25519.pub").strip()
        for machine, user in [(bastion, "carol"), (bastion, "ops"), (ci, "ops")]:
            machine.succeed(f"install -d -m 700 -o {user} /home/{user}/.ssh && echo '{key}' > /home/{user}/.ssh/authorized_keys && chown {user} /home/{user}/.ssh/authorized_keys")
        # root too, so that only PermitRootLogin can refuse it below
        bastion.succeed(f"install -d -m 700 /root/.ssh && echo '{key}' > /root/.ssh/authorized_keys")
        ci.wait_for_unit("sshd.service")
        assert devbox.succeed("ssh -J carol@bastion:2222 ops@ci hostname").strip() == "ci"
        status, out = devbox.execute("ssh -p 2222 carol@bastion id 2>&1")
        assert status != 0 and "not available" in out, (status, out)
        assert devbox.succeed("ssh -p 2222 ops@bastion id -un").strip() == "ops"
        devbox.fail("ssh -p 2222 root@bastion true")
        devbox.fail("ssh -o ConnectTimeout=5 -p 22 ops@bastion true")
        bastion.wait_for_unit("fail2ban.service")
        bastion.wait_until_succeeds("fail2ban-client status sshd", timeout=120)
        assert bastion.succeed("fail2ban-client get sshd maxretry").strip() == "3"

    with subtest("bastion: the kernel audits every program run, and changes to SSH's configuration; auditd keeps the log"):
        bastion.wait_for_unit("audit.service")
        bastion.wait_for_unit("auditd.service")
        status = bastion.succeed("auditctl -s")
        assert "enabled 1" in status and "backlog_limit 8192" in status, status
        rules = bastion.succeed("auditctl -l")
        assert "-S execve" in rules and "key=exec" in rules and "-w /etc/ssh" in rules, rules
        # The contractor's refused shell above ran nologin as carol: the record names both.
        bastion.wait_until_succeeds("ausearch -i -k exec -x nologin | grep -q 'uid=carol'", timeout=30)
        bastion.succeed("touch /etc/ssh/probe && rm /etc/ssh/probe")
        bastion.wait_until_succeeds("ausearch -k ssh-config -f /etc/ssh/probe", timeout=30)
        assert "audit=1" in bastion.succeed("cat /proc/cmdline")
        bastion.succeed("test -s /var/log/audit/audit.log")
  '';
}
