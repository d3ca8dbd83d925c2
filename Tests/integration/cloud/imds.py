#!/usr/bin/env python3
"""An EC2 instance metadata service (IMDSv2 and v1) for one HTTP request on stdin/stdout.

QEMU's user network runs it for every connection the guest opens to 169.254.169.254:80
(`guestfwd=tcp:169.254.169.254:80-cmd:python3 imds.py DIR`), so the guest's cloud-init
talks to it as to Amazon's. DIR holds what it serves: `public-key` (one OpenSSH key),
`hostname`, `user-data`; requests are appended to DIR/requests.log.

The tree is the subset of Amazon's that cloud-init's Ec2 datasource reads, served under
every API version it asks for (/latest, /2009-04-04, /2021-03-23, ...): directories list
their children one per line, with a trailing '/' on subdirectories, and public-keys/ lists
"0=<name>" as Amazon does.
"""
import json
import os
import sys

TOKEN = "kiln-imds-token"


def tree(d):
    read = lambda name, default="": open(os.path.join(d, name)).read().strip() if os.path.exists(os.path.join(d, name)) else default
    host = read("hostname", "ip-10-0-2-15")
    instance = "i-0123456789abcdef0"
    identity = {"accountId": "123456789012", "architecture": "x86_64", "availabilityZone": "us-east-1a",
                "imageId": "ami-0123456789abcdef0", "instanceId": instance, "instanceType": "t3.micro",
                "privateIp": "169.254.0.15", "region": "us-east-1", "version": "2017-09-30"}
    return {
        "meta-data": {
            "ami-id": identity["imageId"], "instance-id": instance, "instance-type": "t3.micro",
            "local-hostname": host + ".ec2.internal", "hostname": host + ".ec2.internal",
            "local-ipv4": "169.254.0.15", "mac": "52:54:00:12:34:56",
            "placement": {"availability-zone": "us-east-1a", "region": "us-east-1"},
            "public-keys": {"0": {"openssh-key": read("public-key")}},
            "services": {"domain": "amazonaws.com", "partition": "aws"},
        },
        "dynamic": {"instance-identity": {"document": json.dumps(identity)}},
        "user-data": read("user-data") or None,
    }


def listing(node, path):
    if path.endswith("public-keys"):
        return "\n".join(f"{k}=kiln-test" for k in sorted(node))
    return "\n".join(k + "/" if isinstance(v, dict) else k for k, v in sorted(node.items()) if v is not None)


def answer(method, path, headers, d):
    if method == "PUT" and path == "/latest/api/token":
        return 200, TOKEN
    if method != "GET":
        return 405, "method not allowed"
    if "x-aws-ec2-metadata-token" in headers and headers["x-aws-ec2-metadata-token"] != TOKEN:
        return 401, "unauthorized"
    parts = [p for p in path.split("?")[0].split("/") if p]
    if not parts:
        return 200, "latest"
    node = tree(d)
    for i, p in enumerate(parts[1:]):  # parts[0] is the API version
        key = p.split("=")[0]
        if not isinstance(node, dict) or node.get(key) is None:
            return 404, "not found"
        node = node[key]
    if isinstance(node, dict):
        return 200, listing(node, "/".join(parts))
    return 200, node


def main():
    d = sys.argv[1]
    src = sys.stdin.buffer
    line = src.readline().decode("latin-1").strip()
    headers = {}
    while True:
        h = src.readline().decode("latin-1")
        if h in ("\r\n", "\n", ""):
            break
        k, _, v = h.partition(":")
        headers[k.strip().lower()] = v.strip()
    length = int(headers.get("content-length", "0") or 0)
    if length:
        src.read(length)
    try:
        method, path, _ = line.split(" ", 2)
    except ValueError:
        return
    code, body = answer(method, path, headers, d)
    with open(os.path.join(d, "requests.log"), "a") as log:
        log.write(f"{method} {path} {code}\n")
    data = body.encode()
    reason = {200: "OK", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed"}[code]
    out = sys.stdout.buffer
    out.write(f"HTTP/1.1 {code} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {len(data)}\r\n"
              f"Connection: close\r\n\r\n".encode() + data)
    out.flush()


if __name__ == "__main__":
    main()
