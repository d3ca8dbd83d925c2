# A nixpkgs name misspelt: the hint offers the nixpkgs name and the Debian package it means.
{ pkgs, ... }:
{
  environment.systemPackages = [ pkgs.bash pkgs.gnumak ];
}
