"""The action journal: every mutating request the console or the CLI sends. UI-free.

JSON lines in the user's state directory (0600, rotated by size): time,
profile, service, action, method, path, the body with secrets redacted, the
outcome, and the equivalent curl command with the secret as an environment
variable reference. A write failure is reported to the caller and never
blocks the action.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import json
import os
import re
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from testdeck import clock
from testdeck.credentials import env_var
from testdeck.redact import redact_values
from testdeck.transport import TokenExchangeAuth

MAX_BYTES = 5 * 1024 * 1024  # rotate past this; keep KEEP old files
KEEP = 3
MAX_BODY = 16 * 1024  # a journal line keeps at most this much of a body


class Acting(msgspec.Struct):
    """The action the user asked for, around its call (journal.acting): its label ("delete"), the values
    of its form's secret fields (redacted from its lines whatever the service), whether the console got
    the server only to accept it (resources.run sets it), and its lines, written when it ends."""

    label: str
    secrets: tuple[str, ...] = ()
    accepted: bool = False
    lines: list[tuple[dict[str, Any], Any]] = msgspec.field(default_factory=list)


current_action: contextvars.ContextVar[Acting | None] = contextvars.ContextVar("testdeck_action", default=None)
# a multipart upload on its way (set by ApiClient.upload): (form fields, {file field: local path as given})
current_upload: contextvars.ContextVar[tuple[dict[str, str], dict[str, str]] | None] = contextvars.ContextVar(
    "testdeck_upload", default=None)


def journal_path() -> Path:
    env = os.environ.get("TESTDECK_JOURNAL")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_state_dir("testdeck")) / "journal.jsonl"


@contextlib.contextmanager
def acting(label: str, secrets: list[str] | tuple[str, ...] = ()) -> Iterator[Acting]:
    """Around an action's call: its lines are kept and written when it ends (an exception, ctrl+c
    included), so a line can say `accepted` when the action's result says the server only accepted it
    (a VM left DELETING, read back after the DELETE was answered)."""
    act = Acting(label, tuple(str(s) for s in secrets if s not in (None, "")))
    token = current_action.set(act)
    try:
        yield act
    finally:
        current_action.reset(token)
        for line, on_error in act.lines:
            if act.accepted and line.get("outcome") == "done":
                line["outcome"] = "accepted"
            _write(line, on_error)


def form_secrets() -> tuple[str, ...]:
    """The values of the current action's secret form fields (ApiClient._mutated marks them)."""
    act = current_action.get()
    return act.secrets if act is not None else ()


@contextlib.contextmanager
def uploading(fields: dict[str, Any] | None, files: dict[str, str]) -> Iterator[None]:
    """Around a multipart upload: its journal line's curl sends the file with -F 'file=@PATH'."""
    token = current_upload.set(({k: str(v) for k, v in (fields or {}).items()}, dict(files)))
    try:
        yield
    finally:
        current_upload.reset(token)


BODY = "@@testdeck-body@@"  # where the body goes in a curl line redacted as text without it
SECRET = "@@testdeck-secret@@"  # where the profile's secret was in a body, for the curl's reference
REDACTED = "@@testdeck-redacted@@"  # where another secret was (a password typed in a form): not replayable as is
TOKEN = "@@testdeck-token@@"  # an exchanged bearer token: the curl's own exchange sets it
# in a JSON body, REDACTED becomes `@@testdeck-redacted:FIELD@@` (_keyed): its variable is named after the field
_MARKS = r"(@@testdeck-secret@@|@@testdeck-redacted(?::[A-Za-z0-9_]*)?@@|@@testdeck-token@@)"  # (compiled at first use)
# the shell stops at an unset one with this message: a replay never sends `***` as a password
_REFUSE = "testdeck redacted this value: set it to send this again"
# a value put back into a JSON body is JSON-escaped in the shell (quotes, backslashes, a PEM's line
# breaks: spliced raw, they broke the JSON); POSIX sh and awk, the value read from the environment
# (awk -v would take its backslashes for escapes)
JSON_FN = (r"""testdeck_json() { TESTDECK_JSON="$1" awk 'BEGIN { s = ENVIRON["TESTDECK_JSON"]; """
           r"""for (i = 1; i < 32; i++) ctl = ctl sprintf("%c", i); for (i = 1; i <= length(s); i++) { """
           r"""c = substr(s, i, 1); k = index(ctl, c); if (c == "\\" || c == "\"") o = o "\\" c; """
           r"""else if (k) o = o sprintf("\\u%04x", k); else o = o c } printf "%s", o }'; }; """)


class _Refs:
    """The variables one curl line refers to for redacted values, each named after its field."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.json = False  # one is put back into a JSON body: the line defines testdeck_json first

    def new(self, field_name: str) -> str:
        base = "TESTDECK_REDACTED_" + (field_name.upper() or str(len(self.names) + 1))
        name, n = base, 1
        while name in self.names:
            n += 1
            name = f"{base}_{n}"
        self.names.append(name)
        return name

    def prefix(self) -> str:
        """Before the curl: the shell refuses to go on while one is unset (`:?`)."""
        return (JSON_FN if self.json else "") + "".join(f': "${{{n}:?{_REFUSE}}}" && ' for n in self.names)


def _quote(word: str) -> str:
    import shlex  # (only a journal line's curl needs it: not imported at start)

    return shlex.quote(word)


def _curl_arg(value: str, profile: str, secrets: list[str], refs: _Refs | None = None, in_json: bool = False) -> str:
    """One shell word; the profile's secret in it becomes "${TESTDECK_SECRET_<PROFILE>}", another
    redacted value "${TESTDECK_REDACTED_<FIELD>}" (refs: checked set before the curl). `in_json`: the
    value is in a JSON body's string, so what the variable holds goes in JSON-escaped (testdeck_json)."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            value = value.replace(secret, SECRET)
    refs = refs if refs is not None else _Refs()
    words = []
    # quoted pieces around the references: the shell joins them and expands only the references
    for piece in re.split(_MARKS, value):
        if piece == SECRET:
            var = env_var(profile)
        elif piece == TOKEN:
            var = "TESTDECK_TOKEN"
        elif piece.startswith(REDACTED[:-2]):
            var = refs.new(piece[len(REDACTED) - 2:-2].lstrip(":"))
        else:
            if piece:
                words.append(_quote(piece))
            continue
        if in_json:
            refs.json = True
            words.append('"$(testdeck_json "${' + var + '}")"')
        else:
            words.append('"${' + var + '}"')
    return "".join(words) or "''"


def curl_command(method: str, url: str, headers: dict[str, str], body: str | None, profile: str,
                 secrets: list[str], upload: tuple[dict[str, str], dict[str, str]] | None = None) -> str:
    """The same request as a curl line; a secret becomes "${TESTDECK_SECRET_<PROFILE>}".

    `--fail`: a replay the server refuses exits non-zero (22), as a script expects. A multipart upload
    is `-F name=value` per form field and `-F file=@PATH` per file (the local path, never the content);
    curl then sets the multipart content type itself."""
    def arg(value: str) -> str:
        return _curl_arg(value, profile, secrets)

    parts = ["curl", "-sS", "--fail", "-X", method, arg(url)]
    for name, value in headers.items():
        if name.lower() in ("content-length", "host", "accept-encoding", "connection", "user-agent"):
            continue
        if upload is not None and name.lower() == "content-type":
            continue  # curl -F writes multipart/form-data with its own boundary
        parts += ["-H", arg(f"{name}: {value}")]
    if upload is not None:
        fields, files = upload
        parts += [p for name, value in fields.items() for p in ("-F", arg(f"{name}={value}"))]
        parts += [p for name, local in files.items() for p in ("-F", arg(f"{name}=@{local}"))]
    elif body is not None:
        parts += ["--data-binary", arg(body)]
    return " ".join(parts)


def token_exchange(url: str, token_path: str, form: dict[str, str], field: str, profile: str,
                   secrets: list[str]) -> str:
    """The shell that gets a bearer token as the client does (OneTest: the offline token posted to
    /rest/tokens/), into TESTDECK_TOKEN, before the request that uses it; an exchange that gives no
    token stops the line there (`&&` alone checked only the last command of the pipe, sed)."""
    parts = urllib.parse.urlsplit(url)
    target = urllib.parse.urlunsplit((parts.scheme, parts.netloc, token_path, "", ""))
    data = " ".join(f"--data-urlencode {_curl_arg(f'{k}={v}', profile, secrets)}" for k, v in form.items())
    pick = _quote(f's/.*"{field}" *: *"\\([^"]*\\)".*/\\1/p')
    return (f'TESTDECK_TOKEN="$(curl -sS --fail -X POST {_curl_arg(target, profile, secrets)} {data} | sed -n {pick})" '
            f'&& : "${{TESTDECK_TOKEN:?the token exchange gave no access token}}" && ')


def _keyed(value: Any, key: str = "") -> Any:
    """A parsed JSON body with each REDACTED mark named after the field that held it."""
    if isinstance(value, str):
        if REDACTED not in value:
            return value
        name = re.sub(r"[^A-Za-z0-9]+", "_", key).strip("_")[:40]
        return value.replace(REDACTED, f"{REDACTED[:-2]}:{name}@@")
    if isinstance(value, list):
        return [_keyed(v, key) for v in value]
    if isinstance(value, dict):
        return {k: _keyed(v, str(k)) for k, v in value.items()}
    return value


def entry(*, profile: str, service: str, method: str, url: str, path: str, headers: dict[str, str],
          body: bytes | None, status: int | None, message: str, secrets: list[str], redact,
          upload: tuple[dict[str, str], dict[str, str]] | None = None, login: str = "",
          outcome: str | None = None) -> dict[str, Any]:
    """One journal line. `redact` is the client's own redaction (every known secret, every escaped form).

    The body may hold SECRET and REDACTED marks (the hook's client puts them where it redacted): the
    journal's body shows *** for both, its curl a reference for each. `login` goes before the curl
    (token_exchange). `outcome`: done, accepted, refused, failed or interrupted (ApiClient.request)."""
    ctype = headers.get("content-type", headers.get("Content-Type", ""))
    text: str | None
    curl_body: str | None = None
    in_json = False
    if body is None or body == b"":
        text = None
    elif "multipart/" in ctype:
        text = "<multipart upload not kept>"
    else:  # JSON with its strings redacted, not as text: `"width": ***` was no longer JSON
        def keep_secret(t: str) -> str:
            # the profile's own secret in the body (OneTest's offlineToken): the curl refers to it, as
            # in a header, rather than carry `***`, which could not be sent again
            for x in secrets:
                if x and len(x) >= 4:
                    t = t.replace(x, SECRET)
            return redact(t)

        raw = body[:MAX_BODY].decode("utf-8", "replace")
        try:
            curl_body = json.dumps(_keyed(redact_values(json.loads(raw), keep_secret)), ensure_ascii=False)
            in_json = True
        except ValueError:
            curl_body = keep_secret(raw)
        if len(body) > MAX_BODY:
            curl_body += f"… ({len(body)} bytes)"
        text = re.sub(_MARKS, "***", curl_body)
    curl = redact(curl_command(method, url, headers, None if curl_body is None else BODY, profile, secrets,
                               upload))
    # the line redacted without its body (redacted above, as JSON), which goes in after
    refs = _Refs()
    curl = curl.replace(BODY, "" if curl_body is None else _curl_arg(curl_body, profile, secrets, refs, in_json))
    act = current_action.get()
    return {
        "time": clock.now(),
        "profile": profile,
        "service": service,
        "action": act.label if act is not None else f"{method} {path}",
        "method": method,
        "path": path,
        "body": text,
        "outcome": outcome,
        "status": status,
        "message": redact(message or ""),
        "curl": refs.prefix() + login + curl,
    }


def _write(line: dict[str, Any], on_error=None) -> None:
    try:
        append(line)
    except OSError as exc:
        if on_error is not None:
            on_error(f"journal not written ({journal_path()}): {exc.strerror or exc}")


def append(line: dict[str, Any], path: Path | None = None) -> None:
    """Append one entry; raises OSError for the caller to show (never to block the action)."""
    path = path or journal_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        if path.stat().st_size > MAX_BYTES:
            _rotate(path)
    except FileNotFoundError:
        pass
    data = (json.dumps(line, ensure_ascii=False, default=str) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)  # one write of one line: concurrent writers do not interleave
    finally:
        os.close(fd)


def _rotate(path: Path) -> None:
    for i in range(KEEP - 1, 0, -1):
        older = path.with_name(f"{path.name}.{i}")
        if older.exists():
            older.replace(path.with_name(f"{path.name}.{i + 1}"))
    path.replace(path.with_name(f"{path.name}.1"))


def read(n: int | None = None, path: Path | None = None) -> list[dict[str, Any]]:
    """Newest first; a damaged line is skipped, not fatal."""
    path = path or journal_path()
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return []
    out = []
    for line in reversed(lines):
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
        if n is not None and len(out) >= n:
            break
    return out


def hook(profile: str, service: str, client: Any, secret: str | None, on_error=None):
    """An ApiClient.on_mutation callback that journals each mutating request.

    The curl command is rebuilt from the client's base URL and default headers
    (where xyOps and kyaraben carry their credentials); a secret in them
    becomes an environment variable reference. A write failure goes to
    `on_error` (the console shows it) and never to the request."""

    def record(method: str, path: str, body: str, status: int | None, message: str,
               outcome: str | None = None) -> None:
        http = getattr(client, "_http", None)
        base = str(http.base_url).rstrip("/") if http is not None else ""
        headers = {k: v for k, v in (http.headers.items() if http is not None else [])
                   if k.lower() not in ("accept", "user-agent")}
        upload = current_upload.get()
        if body and upload is None:
            headers.setdefault("Content-Type", "application/json")
        secrets = [secret] if secret else []
        login = ""
        auth = getattr(http, "auth", None)
        if isinstance(auth, TokenExchangeAuth):  # a bearer token got per session: the curl gets one too
            login = token_exchange(base, auth.token_path, auth.form, auth.field, profile, secrets)
            headers["Authorization"] = f"Bearer {TOKEN}"
        line = entry(profile=profile, service=service, method=method, url=base + path, path=path,
                     headers=headers, body=body.encode() if body else None, status=status, message=message,
                     secrets=secrets, redact=getattr(client, "redact", lambda t: t), upload=upload, login=login,
                     outcome=outcome)
        act = current_action.get()
        if act is not None:  # written when the action ends, with what it did (journal.acting)
            act.lines.append((line, on_error))
        else:
            _write(line, on_error)

    record.marks = (SECRET, REDACTED)  # type: ignore[attr-defined]  (ApiClient._mutated marks them for us)
    return record


# --- reading it back (the journal screen, `testdeck journal`) ---------------------------------

def when(epoch: Any) -> str:
    """An entry's time as the journal screen and `testdeck journal` show it (local time)."""
    try:
        return datetime.datetime.fromtimestamp(float(epoch)).strftime("%m-%d %H:%M:%S")
    except (TypeError, ValueError, OverflowError):
        return ""


def outcome(entry: dict) -> str:
    """`refused 500 That Alert ID already exists`: what it did first (done, accepted, refused: nothing
    was done, failed: the server may have acted), then the status and the server's words. (Lines
    written before the word was kept have the status only.)"""
    status, message = entry.get("status"), str(entry.get("message") or "")
    if not status and message.startswith("interrupted"):  # it says what happened: not "no response" too
        return message
    head = f"{status}" if status else "no response"
    return " ".join(w for w in (str(entry.get("outcome") or ""), head, message) if w)
