# security.audit with its rules (locked) and security.auditd: the rules file, the unit that
# loads them, the daemon and the kernel's audit=1.
{ ... }:
{
  security.auditd.enable = true;
  security.audit = { enable = "lock"; failureMode = "panic"; rules = [ "-a exit,always -F arch=b64 -S execve" ]; };
}
