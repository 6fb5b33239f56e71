"""The crash report: the current exception as a rich traceback with no local variables, every
known secret replaced by ***. No Textual: the console (app.py) and the CLI (cli.py) both show it,
and both import it only when something crashed."""

from __future__ import annotations

from testdeck import credentials
from testdeck.text import sanitize


def crash_report(width: int | None = None):
    """The current exception as a rich traceback: no locals, known secrets replaced by ***."""
    import io

    import rich
    from rich.console import Console
    from rich.text import Text
    from rich.traceback import Traceback

    from testdeck.redact import Redactor

    out = io.StringIO()
    # plain text: a secret split by colour codes could slip past the redaction
    Console(file=out, width=width or 100, color_system=None).print(
        Traceback(show_locals=False, width=width, suppress=[rich]))
    return Text(sanitize(Redactor(sorted(credentials.known_secrets())).redact(out.getvalue()), multiline=True))
