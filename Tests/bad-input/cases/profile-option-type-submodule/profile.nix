{ ... }:
{
  users.users.alice.uid = "x";
}
