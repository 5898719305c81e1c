"""fieldgate: field- and action-level permissions for low-code forms, for Python backends.

The same evaluator as the npm package and ``fieldgate serve``, compiled from the same Rust
crate, so a backend enforces exactly what the browser shows::

    from fieldgate import Bundle
    bundle = Bundle.verify(data, trusted_keys=[PUBLIC_KEY], app="acme-erp", min_version=seen)
    s = bundle.policy.session({"id": "u-alice", "department": "sales-east"})
    s.can("edit", "customer", record)            # True / False
    s.fields("customer", "edit", record)         # {"phone": "masked", ...}
    s.redact("customer", "view", record)         # the record as the user may see it
    s.writable("customer", "edit", form, record) # the part of a write the user may make
"""

from ._fieldgate import Bundle, Policy, Session
from .errors import BundleError, FieldgateError, PolicyError, RequestError, SqlError

__all__ = [
    "Bundle",
    "Policy",
    "Session",
    "FieldgateError",
    "PolicyError",
    "BundleError",
    "RequestError",
    "SqlError",
]
