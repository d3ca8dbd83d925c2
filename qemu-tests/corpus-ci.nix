# The corpus's CI runner (Tests/nixos-configs/ci-runner), unchanged, booted as the machine it
# describes: Docker runs the configuration's scheduled job in a container and publishes a
# port through its own NAT, Podman runs a container without a daemon. Nothing can be pulled
# here, so the test imports an image made of the machine's own static busybox.
{ lib, ... }:
{
  name = "corpus-ci";
  nodes.ci = { pkgs, ... }: {
    imports = [ ../Tests/nixos-configs/ci-runner/configuration.nix ];
    environment.systemPackages = [ pkgs.busybox-static pkgs.curl ];
  };

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
  '';
}
