"""The command line: parse options, call one core function, render the result."""
