"""The commands of ``python -m autograder``: one module per command that parses its arguments,
calls the library, prints and returns the exit status (``autograder/__main__.py`` dispatches).
A command may import any part of the kit; nothing in the kit imports a command.
"""
