"""The errors fieldgate raises. Each carries the stable ``code`` the Rust, JavaScript and HTTP
layers use for the same mistake (docs/errors.md lists them all)."""

from typing import List, Optional, Tuple


class FieldgateError(Exception):
    """Any fieldgate error: ``code`` is stable, ``message`` is for people."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class PolicyError(FieldgateError):
    """A policy that does not compile. ``path`` is the JSON path of the first mistake;
    ``errors`` lists every mistake as ``(code, message, path)``."""

    def __init__(self, code: str, message: str, path: str, errors: List[Tuple[str, str, str]]):
        super().__init__(code, f"{message} (at {path or '$'})")
        self.message = message
        self.path = path
        self.errors = list(errors)


class BundleError(FieldgateError):
    """A bundle that fails a check (signature, app, version, expiry, subject, size). For
    ``bad_policy``, ``errors`` lists the policy's mistakes as ``(code, message, path)``."""

    def __init__(self, code: str, message: str, errors: Optional[List[Tuple[str, str, str]]] = None):
        super().__init__(code, message)
        self.errors = list(errors or [])


class RequestError(FieldgateError):
    """A question the policy cannot answer: ``unknown_resource``, ``unknown_action``,
    ``bad_request``."""


class SqlError(FieldgateError):
    """A scope filter with no exact SQL form (``sql_unsupported``), a bad column
    (``bad_column``) or dialect (``bad_dialect``)."""
