# Nothing set: what every system gets.
{ ... }: { }
