"""`testdeck profile add | list | remove | test`: profiles in the config file, their secrets where the
user chose (env var, keyring, secrets file), and a live check of one. Imported only for these verbs."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from pathlib import Path
from typing import Any

from testdeck import credentials
from testdeck.cli import UsageError, print_table
from testdeck.config import Config, Profile, check_name, update_config, url_problem
from testdeck.errors import ApiError, ConfigError, CredentialError
from testdeck.text import sanitize

PROFILE_FIELDS = {"user_id": "user_id", "group": "group", "project_id": "project_id", "space_id": "space_id"}
# what the secret prompt asks for, and whether the service works without one
SECRET_KINDS = {"xyops": ("xyOps API key", True), "xpresso": ("XPRESSO API token (JWT)", True),
                "onetest": ("OneTest offline token", True), "kyaraben": ("optional kyaraben gateway token", False),
                "alyvix": ("optional Alyvix JWT", False)}


def run_profile(args: argparse.Namespace, config: Config) -> int:
    if args.action == "list":
        return profile_list(config)
    if args.action == "add":
        return profile_add(args, config)
    if args.name not in config.profiles:
        raise UsageError(f"no profile {args.name!r} in {config.path}")
    if args.action == "remove":
        update_config(config.path, lambda fresh: fresh.profiles.pop(args.name, None))
        problem = credentials.delete_secret(args.name)
        print(f"removed {args.name}")
        if problem:  # the profile is gone, but a secret may be left behind: say so, and fail
            raise CredentialError(f"its keyring entry (service testdeck, user {args.name}) may be left: {problem}")
        return 0
    return asyncio.run(profile_test(config, config.profiles[args.name]))


def profile_list(config: Config) -> int:
    if not config.profiles:
        print(f"no profiles in {config.path}" + ("" if config.path.exists() else " (no such file)"))
        return 0
    headings = ["name", "service", "mode", "url", "tls", "secret"]
    rows, notes = [], []
    for p in config.profiles.values():
        tls = "n/a (http)" if p.url.startswith("http://") else (
            "ca-bundle" if p.ca_bundle else ("on" if p.verify_tls else "OFF"))
        try:
            secret = credentials.get_secret(p.name).source
        except CredentialError as exc:
            secret, notes = "?", notes + [str(exc)]
        if secret == "none":
            secret = f"none ({credentials.env_var(p.name)} to give one)"
        rows.append((p.name, p.service, p.badges(), p.url, tls, secret))
        if p.broken:
            notes.append(f"{p.name} is broken: {p.broken}")
    print_table(headings, rows, [None] * len(headings))
    warning = credentials.keyring_warning()
    for note in notes + ([warning] if warning else []):
        print(f"note: {sanitize(note)}", file=sys.stderr)
    return 0


def _secret_wanted(args: argparse.Namespace, exists: bool) -> str | None:
    """The secret to store: from stdin, or asked for on the terminal; None to keep what is stored
    (an existing profile), "" for none (--no-secret, or nothing typed for a new profile)."""
    if args.no_secret:
        return ""
    if args.secret_stdin:
        secret = sys.stdin.readline().rstrip("\r\n")
        if not secret:
            raise UsageError("--secret-stdin read no secret (an empty line or none); nothing saved. "
                             "For a profile without one, use --no-secret")
        return secret
    if not sys.stdin.isatty():
        if exists:
            return None  # a script changing a URL keeps the stored secret
        raise UsageError("no terminal to ask for the secret on: give it with --secret-stdin, "
                         "or say --no-secret; nothing saved")
    kind, needed = SECRET_KINDS[args.service]
    hint = "; empty keeps the stored one" if exists else ("" if needed else "; empty for none")
    try:
        secret = getpass.getpass(f"{kind} for {args.name} (hidden{hint}): ")
    except EOFError:  # ctrl+d at the prompt
        print(file=sys.stderr)
        raise CredentialError(f"no secret read (end of input); profile {args.name!r} not saved") from None
    if not secret and not exists and needed:
        raise UsageError(f"no {kind} given; profile {args.name!r} not saved (--no-secret adds it without one)")
    return secret if secret or not exists else None


def _merged(args: argparse.Namespace, old: Profile | None, where: str) -> Profile:
    """The profile as it will be saved: the old one's table (environment, read_only, label, color,
    sub-tables, keys not known here) with only what the command line gives changed."""
    data: dict[str, Any] = dict(old.to_toml()) if old is not None else {}
    data.update(service=args.service, url=args.url)
    if args.timeout is not None:
        data["timeout"] = args.timeout
    if args.verify_tls is not None:
        data["verify_tls"] = args.verify_tls
        if args.verify_tls:
            data.pop("verify_tls")  # the default: not written
    if args.ca_bundle:
        data["ca_bundle"] = args.ca_bundle
    data.update({key: getattr(args, attr) for attr, key in PROFILE_FIELDS.items() if getattr(args, attr, None)})
    return Profile.from_toml(args.name, data, where)


def profile_add(args: argparse.Namespace, config: Config) -> int:
    """Secret first, then the profile: a secret that cannot be stored leaves nothing behind."""
    problem = check_name(args.name, list(config.profiles))
    if problem:
        raise UsageError(problem)
    problem = url_problem(args.url)
    if problem:  # never quoting the URL: it may hold a password
        raise UsageError(f"--url: {problem}")
    if args.timeout is not None and not 0 < args.timeout < float("inf"):
        raise UsageError("--timeout must be more than 0 seconds")
    if args.ca_bundle:
        bundle = Path(args.ca_bundle).expanduser().absolute()
        if not bundle.exists():
            raise UsageError(f"--ca-bundle {args.ca_bundle}: no such file or folder")
        args.ca_bundle = str(bundle)  # works from any folder, not only the one it was added from
    old = config.profiles.get(args.name)
    if args.service == "kyaraben" and not args.user_id and not (old and old.fields.get("user_id")):
        raise UsageError("kyaraben profiles need --user-id (sent as X-Auth-UserId)")
    try:  # checked before any secret is stored: what the command line gives, then with what is kept
        _merged(args, None, "profile add")
    except ConfigError as exc:
        raise UsageError(str(exc).replace("profile add: ", "", 1)) from None
    try:
        profile = _merged(args, old, str(config.path))
    except ConfigError as exc:  # a kept value that cannot be used: to be fixed in the file
        raise ConfigError(f"{exc}; profile {args.name!r} not saved") from None
    secret = _secret_wanted(args, old is not None)
    where, env = "kept", credentials.env_var(args.name)
    if secret:
        try:
            where = credentials.set_secret(args.name, secret, insecure_storage=args.insecure_storage)
        except CredentialError as exc:
            raise CredentialError(f"{exc}; profile {args.name!r} not saved. Give the secret through "
                                  f"{env} and add with --no-secret, or add with "
                                  f"--insecure-storage (a 0600 file beside the config)") from None
    saved: list[Profile] = []

    def add(fresh: Config) -> None:
        clash = check_name(args.name, list(fresh.profiles))  # again: another process may have added one
        if clash:
            raise UsageError(clash)
        # from the file as it is now: another process may have changed this profile meanwhile
        saved.append(_merged(args, fresh.profiles.get(args.name), str(fresh.path)))
        fresh.profiles[args.name] = saved[-1]

    try:
        update_config(config.path, add)
    except ConfigError as exc:
        raise ConfigError(f"{exc}; profile {args.name!r} not saved") from None
    except BaseException:
        if secret and old is None:
            credentials.delete_secret(args.name)
        raise
    if secret == "":  # --no-secret: a secret stored before would still be sent
        problem = credentials.delete_secret(args.name)
        where = "none" + (f" (its keyring entry may be left: {problem})" if problem else "")
    elif secret is None:
        try:
            where = f"kept ({credentials.get_secret(args.name).source})"
        except CredentialError as exc:  # saved all the same: say why its secret cannot be read
            where = f"kept, but it cannot be read: {exc}"
    kept = sorted(k for k in saved[-1].to_toml() if old is not None and k in old.to_toml()
                  and k not in ("service", "url") and k not in _given(args))
    print(f"saved profile {args.name} ({args.service} at {profile.url})"
          + (f"; kept {', '.join(kept)}" if kept else "") + f"; secret: {where}")
    if os.environ.get(env):
        print(f"note: {env} is set in this environment, and is used before any stored secret", file=sys.stderr)
    return 0


def _given(args: argparse.Namespace) -> set[str]:
    """The profile keys this `profile add` sets."""
    given = {key for attr, key in PROFILE_FIELDS.items() if getattr(args, attr, None)}
    given |= {k for k, v in (("timeout", args.timeout), ("verify_tls", args.verify_tls),
                             ("ca_bundle", args.ca_bundle)) if v is not None}
    return given


async def profile_test(config: Config, profile: Profile) -> int:
    from testdeck.session import ProfileSession

    session = ProfileSession.open(config, profile)
    async with session.client as client:
        try:
            what = await client.ping()
        except ApiError as exc:
            print(f"{profile.name}: FAILED: {sanitize(exc.one_line())}")
            return 1
    source = "no secret" if session.secret_source == "none" else f"secret from {session.secret_source}"
    print(f"{profile.name}: OK ({sanitize(what)}; {source})")
    return 0
