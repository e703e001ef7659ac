"""The planning workbench: an editable study served to the browser (``hzspatial serve``).

- :mod:`~hzspatial.workbench.session` — :class:`Workbench`: one loaded study, its version,
  the baseline it is compared with, edits as JSON in and out, exports, saved studies.
- :mod:`~hzspatial.workbench.jobs` — siting runs in a process of their own (progress, cancel).
- :mod:`~hzspatial.workbench.security` — the token, Host / Origin checks, body limits, headers.
- :mod:`~hzspatial.workbench.app` — the HTTP API and the page (Starlette).
- :mod:`~hzspatial.workbench.server` — starting it: address, token, browser.
"""

from hzspatial.workbench.session import EditConflict, Workbench

__all__ = ["EditConflict", "Workbench"]
