"""The command line: a click group, one module per subcommand.

Exit codes, for every subcommand:

- 0: all tests passed;
- 1: some test failed;
- 2: bad input or usage (a clear one-line message, no traceback);
- 3: internal or sandbox error.
"""
