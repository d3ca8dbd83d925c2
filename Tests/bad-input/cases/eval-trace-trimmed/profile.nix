{ pkgs, ... }: { environment.variables.FOO = 1 + "a"; }
