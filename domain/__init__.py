"""Pure data and rules of the SMS add-on: no I/O, safe to import from workflows."""
