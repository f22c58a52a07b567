"""`lab alias`: the block a user evals in the shell's rc file: short aliases for the daily loop
and completion for `lab` and for them (answered by cli/complete.py). Unlike Typer's own
completion script, it never falls back to file names where a value is expected."""

from __future__ import annotations

from typing import Annotated

import typer

from mllm_lab.cli.complete import ALIASES, values

SHELLS = ("bash", "zsh", "fish")

_BASH = r"""
_lab_complete() {
    local IFS=$'\n' reply
    reply=$(COMP_WORDS="${COMP_WORDS[*]}" COMP_CWORD=$COMP_CWORD _LAB_COMPLETE=complete_bash \
        command lab 2>/dev/null)
    case $reply in
        ::files::) compopt -o filenames 2>/dev/null
                   COMPREPLY=($(compgen -f -- "${COMP_WORDS[COMP_CWORD]}")) ;;
        ::dirs::) compopt -o filenames 2>/dev/null
                  COMPREPLY=($(compgen -d -- "${COMP_WORDS[COMP_CWORD]}")) ;;
        *) local value; COMPREPLY=()  # quoted for the line: "MLP (2-layer)" stays one word
           for value in $reply; do COMPREPLY+=("$(printf '%q' "$value")"); done ;;
    esac
}
complete -F _lab_complete lab {aliases}
"""

_ZSH = r"""
_lab_complete() {
    local reply
    reply=$(_LAB_COMPLETE=complete_zsh _TYPER_COMPLETE_ARGS="${words[1,$CURRENT]}" \
        command lab 2>/dev/null)
    case $reply in
        ::files::) _files ;;
        ::dirs::) _files -/ ;;
        *) local -a items
           items=("${(@f)reply}")
           [[ -n $reply ]] && _describe 'lab' items ;;
    esac
}
compdef _lab_complete lab
"""

_FISH = r"""
function __lab_complete
    set -l reply (env _LAB_COMPLETE=complete_fish _TYPER_COMPLETE_ARGS=(commandline -cp) command lab 2>/dev/null)
    switch "$reply"
        case '::files::'
            __fish_complete_path (commandline -ct)
        case '::dirs::'
            __fish_complete_directories (commandline -ct)
        case '*'
            printf '%s\n' $reply
    end
end
complete --command lab --no-files --arguments '(__lab_complete)'
"""


def block(shell: str) -> str:
    """What `lab alias SHELL` prints: aliases, then completion for lab and each alias."""
    head = f'# lab: aliases and completion. In ~/.{shell}rc: eval "$(lab alias {shell})"\n'
    if shell == "fish":
        head = "# lab: aliases and completion. In ~/.config/fish/config.fish: lab alias fish | source\n"
        aliases = "".join(f"alias {name} '{f'lab {words}'}'\n" for name, words in ALIASES.items())
        return head + aliases + _FISH.lstrip("\n")
    aliases = "".join(f"alias {name}='lab {words}'\n" for name, words in ALIASES.items())
    if shell == "zsh":  # zsh completes an alias as what it stands for
        return head + aliases + _ZSH.lstrip("\n")
    return head + aliases + _BASH.lstrip("\n").replace("{aliases}", " ".join(ALIASES))


def alias(
    shell: Annotated[
        str, typer.Argument(help="bash, zsh or fish.", autocompletion=values("shell"))
    ] = "bash",
) -> None:
    """Print short aliases for the daily loop and completion, to eval in your shell's rc file.

    Completes paper keys (with titles), statuses, list kinds, categories, prompt kinds, --lang
    and weeks; never file names where a value is expected.
    Example: echo 'eval "$(lab alias bash)"' >> ~/.bashrc
    """
    from mllm_lab.cli import output
    from mllm_lab.errors import InvalidValue

    if shell not in SHELLS:
        raise InvalidValue("shell", shell, SHELLS)
    output.result(block(shell).rstrip("\n"))
