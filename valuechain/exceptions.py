"""The project's errors: one base class, one subclass per failure kind.

Every message is one line that names the file, the key or row, and the fix. The base class
enforces the "one line": a line break, control character or bidirectional override that comes from
user text (a title, a key, a company name) is shown as its escape sequence, so it can neither split
the message nor drive or reorder the terminal.
"""
import unicodedata


# Control characters (BEL, ESC, ...), line and paragraph separators, and format characters, which
# include the bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069) that make a
# terminal show text in another order than it was written.
ESCAPED_CATEGORIES = ("Cc", "Cf", "Zl", "Zp")


def one_line(text) -> str:
    """``text`` with every line break, control character and format (bidirectional) character written
    as an escape sequence, so it can neither split a message nor drive or reorder the terminal."""
    out = []
    for char in str(text):
        if char == "\t":
            out.append(" ")
        elif unicodedata.category(char) in ESCAPED_CATEGORIES:
            out.append(char.encode("unicode_escape").decode("ascii"))
        else:
            out.append(char)
    return "".join(out)


def terminal_text(text) -> str:
    """``text`` of several lines for the terminal: each line as :func:`one_line` writes it."""
    return "\n".join(one_line(line) for line in str(text).split("\n"))


class ValuechainError(Exception):
    """Raised when valuechain refuses an input or cannot finish a job (base class)."""

    exit_code = 2

    def __init__(self, message="", *args):
        super().__init__(one_line(message), *args)


class DataValidationError(ValuechainError):
    """Raised when a bundled or user-supplied data file breaks a rule of the dataset schema."""

    def __init__(self, message, failures=None):
        super().__init__(message)
        self.failures = failures


class FiscalCalendarError(ValuechainError):
    """Raised when a fiscal period cannot be mapped to a calendar quarter."""


class ParameterError(ValuechainError):
    """Raised when a scenario file is missing, malformed or holds an invalid value.

    ``problems`` holds every problem found (one line each); the message is the first of them.
    """

    def __init__(self, message, problems=None):
        super().__init__(message)
        self.problems = [one_line(p) for p in problems] if problems else [str(self)]


class HeadlineError(ValuechainError):
    """Raised when a result declares a headline figure that its recorded figures do not hold."""


class OutputError(ValuechainError):
    """Raised when a file or folder under the outputs cannot be written (read-only, no permission, disk full)."""


class RunLockedError(ValuechainError):
    """Raised when another valuechain process holds the lock on the outputs folder."""


class SecIdentityError(ValuechainError):
    """Raised when no SEC User-Agent identity ("Name email@example.com") is configured for a request to data.sec.gov."""


class SecRequestError(ValuechainError):
    """Raised when a request to data.sec.gov fails: no network, a timeout, or an HTTP error status."""


class SecRateLimitError(SecRequestError):
    """Raised when data.sec.gov refuses a request with HTTP 429 or 403 (rate limit or unaccepted identity)."""


class SecResponseError(ValuechainError):
    """Raised when a company-facts response from data.sec.gov is not the JSON structure the refresh expects."""


class StagedChangesError(ValuechainError):
    """Raised when a staged change file given to ``valuechain data refresh --apply`` is malformed or out of date."""
