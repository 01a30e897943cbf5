"""The one exception the library raises for problems a user can fix.

Its message is a single sentence that names the fix; the CLI prints it
without a traceback and exits with `exit_code` (1 for runtime problems,
2 for usage errors).
"""


class RagError(Exception):
    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


class UsageError(RagError):
    def __init__(self, message: str):
        super().__init__(message, exit_code=2)
