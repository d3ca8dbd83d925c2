# readFile of a directory says so, not "No such file or directory".
builtins.readFile ./dir
