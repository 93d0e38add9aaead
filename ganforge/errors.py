"""User-facing errors: one clear line, exit code 2, no traceback."""


class GanforgeError(Exception):
    """A mistake in what the user asked for (a bad path, option, file or config).

    The CLI prints ``error: <message>`` and exits with code 2. The message names what is
    wrong and what is expected, in one line.
    """

    exit_code = 2
