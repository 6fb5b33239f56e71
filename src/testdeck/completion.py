"""Shell completion: the scripts for bash and zsh, and the words they ask `testdeck __complete` for."""

from __future__ import annotations

from testdeck.config import Config
from testdeck.verbs import cli_name


BASH = r'''# testdeck completion for bash: eval "$(testdeck completion bash)"
_testdeck() {
    local cur="${COMP_WORDS[COMP_CWORD]}"
    local IFS=$'\n'
    COMPREPLY=($(compgen -W "$(testdeck __complete "${COMP_WORDS[@]:1:COMP_CWORD-1}" 2>/dev/null)" -- "$cur"))
}
complete -F _testdeck testdeck
'''

ZSH = r'''#compdef testdeck
# testdeck completion for zsh: eval "$(testdeck completion zsh)"
_testdeck() {
    local -a words_before candidates
    words_before=("${(@)words[2,CURRENT-1]}")
    candidates=("${(@f)$(testdeck __complete "${words_before[@]}" 2>/dev/null)}")
    compadd -- "${candidates[@]}"
}
compdef _testdeck testdeck
'''

VERBS = ["get", "describe", "do", "logs", "triage", "journal", "profile", "sim", "completion"]


def complete(words: list[str], config: Config | None) -> list[str]:
    """Candidates for the next word after `words` (the words typed so far, without `testdeck`)."""
    from testdeck.services import all_services

    if words and words[-1] in ("-p", "--profile"):
        return sorted(config.profiles) if config else []
    positional = [w for i, w in enumerate(words) if not w.startswith("-")
                  and (i == 0 or words[i - 1] not in ("-p", "--profile", "--scope", "--set", "-o", "--output"))]
    if not positional:
        return VERBS
    verb = positional[0]
    services = all_services()
    if verb in ("get", "describe", "do", "logs") and len(positional) == 1:
        return sorted({r.name for s in services for r in s.resources})
    if verb == "do" and len(positional) == 2:
        return sorted({cli_name(a.label) for s in services for r in s.resources
                       if positional[1] in (r.name, *r.aliases) for a in r.actions})
    if verb == "profile" and len(positional) == 1:
        return ["add", "list", "remove", "test"]
    if verb == "profile" and len(positional) == 2 and positional[1] in ("remove", "test"):
        return sorted(config.profiles) if config else []
    if verb == "completion":
        return ["bash", "zsh"]
    return []
