{ ... }: { users.users.bob = { description = "Bob"; }; }
