"""Shell completion: the scripts for bash and zsh, and the words they ask `testdeck __complete` for."""

from __future__ import annotations

from testdeck.config import Config
from testdeck.verbs import cli_name


BASH = r"""# testdeck completion for bash: eval "$(testdeck completion bash)"
# (asks the command being completed, so `.venv/bin/testdeck <TAB>` works without it on PATH)
_testdeck() {
    local cur="${COMP_WORDS[COMP_CWORD]}"
    local IFS=$'\n'
    COMPREPLY=($(compgen -W "$("${COMP_WORDS[0]}" __complete "${COMP_WORDS[@]:1:COMP_CWORD-1}" 2>/dev/null)" -- "$cur"))
}
complete -F _testdeck testdeck
"""

ZSH = r"""#compdef testdeck
# testdeck completion for zsh: eval "$(testdeck completion zsh)"
_testdeck() {
    local -a words_before candidates
    words_before=("${(@)words[2,CURRENT-1]}")
    candidates=("${(@f)$("${words[1]}" __complete "${words_before[@]}" 2>/dev/null)}")
    compadd -- "${candidates[@]}"
}
compdef _testdeck testdeck
"""

VERBS = ["get", "describe", "do", "logs", "triage", "journal", "profile", "sim", "completion"]
# options that take a value, before the verb (global) and after it: the word after one is its value
TAKES_VALUE = {"--config", "--seed", "--size", "--open", "-p", "--profile", "--scope", "--set", "-o", "--output",
               "--query", "-n", "--port", "--latency", "--error-rate", "--service", "--url", "--ca-bundle",
               "-k", "--key", "--command", "--timeout", "--user-id", "--group", "--project-id", "--space-id"}
OUTPUTS = {"get": ["table", "json", "csv"], "describe": [], "journal": ["table", "json"], "triage": ["table", "json"],
           "do": ["text", "json"]}
# each verb's own options, offered once its positional words are typed (a resource's declared `get`
# options come on top: _declared)
FLAGS = {"get": ["-p", "--profile", "-o", "--output", "--scope", "--query"],
         "describe": ["-p", "--profile", "--scope", "--query"],
         "do": ["-p", "--profile", "--scope", "--set", "--yes", "-o", "--output"],
         "logs": ["-p", "--profile", "--scope", "-f", "--follow", "--command", "-k", "--key"]}
PAIRS = {"-p": "--profile", "-o": "--output", "-f": "--follow", "-k": "--key"}  # one option, two spellings
ARITY = {"get": 2, "describe": 3, "do": 3, "logs": 3}  # positional words (verb included) before flags make sense


def flag(opt) -> str:
    return "--" + opt.name.replace("_", "-")


def _declared(services, resource: str | None) -> list:
    """The declared `get`/`describe` options (resources.Opt) of a resource by that name in any service;
    of every resource when `resource` is None (to know which flags take a value)."""
    return [o for s in services for r in s.resources if resource is None or resource in (r.name, *r.aliases)
            for o in r.options]


def config_named(words: list[str]) -> str | None:
    """The `--config PATH` among the words typed, if any (profiles are completed from that file)."""
    for i, word in enumerate(words[:-1]):
        if word == "--config":
            return words[i + 1]
    return None


def complete(words: list[str], config: Config | None) -> list[str]:
    """Candidates for the next word after `words` (the words typed so far, without `testdeck`)."""
    from testdeck.services import all_services

    services = all_services()
    takes_value = TAKES_VALUE | {flag(o) for o in _declared(services, None)}
    positional = [w for i, w in enumerate(words) if not w.startswith("-")
                  and (i == 0 or words[i - 1] not in takes_value)]
    verb = positional[0] if positional else None
    last = words[-1] if words else ""
    profiles = sorted(config.profiles) if config else []
    declared = _declared(services, positional[1]) if verb in ("get", "describe") and len(positional) > 1 else []
    chosen = next((o for o in declared if flag(o) == last), None)
    if chosen is not None:  # a declared option's value: its choices, if it has some
        return list(chosen.choices or ())
    if last in ("-p", "--profile"):
        return profiles
    if last in ("-o", "--output"):
        return OUTPUTS.get(verb or "", ["table", "json"])
    if last == "--open":
        names = {r.name for s in all_services() for r in s.resources}
        return ["triage", "journal", *profiles, *sorted({s.name for s in all_services()}), *sorted(names)]
    if last in takes_value:
        return []  # a path, a number, a free value: the shell's own completion knows better
    if verb is None:
        return VERBS
    if verb in ("get", "describe", "do", "logs") and len(positional) == 1:
        return sorted({r.name for s in services for r in s.resources})
    if verb == "do" and len(positional) == 2:
        return sorted({cli_name(a.label) for s in services for r in s.resources
                       if positional[1] in (r.name, *r.aliases) for a in r.actions})
    if verb == "profile" and len(positional) == 1:
        return ["add", "list", "remove", "test"]
    if verb == "profile" and len(positional) == 2 and positional[1] in ("remove", "test"):
        return profiles
    if verb == "completion":
        return ["bash", "zsh"]
    if verb in ARITY and len(positional) >= ARITY[verb] - (verb == "do"):  # (a `do` ID is optional)
        typed = {PAIRS.get(w, w) for w in words}
        return [f for f in FLAGS[verb] + sorted({flag(o) for o in declared})
                if PAIRS.get(f, f) not in typed or f in ("--set", "-k", "--key")]
    return []
