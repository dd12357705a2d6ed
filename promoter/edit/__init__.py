"""Edit: byte-exact changes to the values of located references, verified before anything is written."""
