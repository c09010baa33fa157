"""The analyzer's one error type: bad input (a missing or malformed file, a wrong setting)."""

EXIT_OK = 0
EXIT_FAILED = 1  # the run could not complete (e.g. no data in the window)
EXIT_BAD_INPUT = 2


class InputError(Exception):
    """Bad input: the message says what and where, in one line."""

    exit_code = EXIT_BAD_INPUT


class NoDataError(InputError):
    """The window holds no record: Model Monitor fails such a run ("Job inputs had no data")."""

    exit_code = EXIT_FAILED
