"""The project's errors: one base class, one subclass per failure kind.

Every message is one line that names the file, the key or row, and the fix.
"""


class ValuechainError(Exception):
    """Raised when valuechain refuses an input or cannot finish a job (base class)."""

    exit_code = 2


class DataValidationError(ValuechainError):
    """Raised when a bundled or user-supplied data file breaks a rule of the dataset schema."""

    def __init__(self, message, failures=None):
        super().__init__(message)
        self.failures = failures


class FiscalCalendarError(ValuechainError):
    """Raised when a fiscal period cannot be mapped to a calendar quarter."""


class ParameterError(ValuechainError):
    """Raised when a scenario file is missing, malformed or holds an invalid value."""


class NotebookExecutionError(ValuechainError):
    """Raised when a notebook fails while executing."""


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
