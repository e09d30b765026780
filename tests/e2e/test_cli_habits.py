"""The habits of a well-made CLI: every command's help has Examples and the
global options, --home on any client command, shell completion, and "not
found" errors that name the near name."""

import os
import subprocess

from lote_e2e import EXIT_NOT_FOUND, run_cli


def commands(lote_bin, env, path=()):
    """Every command path, from the help's Subcommands sections."""
    out = run_cli(lote_bin, [*path, "--help"], env).stdout
    found = [path]
    if "Subcommands:" not in out:
        return found
    for line in out.split("Subcommands:", 1)[1].splitlines()[1:]:
        if not line.strip():
            break  # the end of the section
        found += commands(lote_bin, env, (*path, line.split()[0]))
    return found


def test_every_help_has_examples_and_the_global_options(server):
    env = server.env()
    paths = commands(server.lote_bin, env)
    assert ("batch-endpoint", "invoke") in paths and ("job", "stream") in paths and len(paths) > 40
    for path in paths:
        text = run_cli(server.lote_bin, [*path, "--help"], env).stdout
        if path and path[0] in ("agent", "worker"):
            continue  # started by lote itself, not by hand
        assert "Examples:" in text, path
        if path and path[0] in ("serve", "agent", "worker", "completion"):
            continue
        for opt in ("--output", "--query", "--home", "LOTE_ENDPOINT"):
            assert opt in text, (path, opt)


def test_home_works_on_any_client_command(server):
    env = {k: v for k, v in server.env().items() if k != "LOTE_HOME"}
    env["HOME"] = os.path.join(server.home, "..", "nobody")  # no ~/.lote to fall back on
    server.cli("compute", "create", "-n", "cpu-one")
    before = run_cli(server.lote_bin, ["--home", server.home, "compute", "list", "--query", "[].name", "-o", "tsv"], env)
    after = run_cli(server.lote_bin, ["compute", "list", "--home", server.home, "--query", "[].name", "-o", "tsv"], env)
    assert before.stdout.split() == after.stdout.split() == ["cpu-one"]


def test_completion_scripts_complete_commands_and_options(server, tmp_path):
    for shell in ("bash", "zsh"):
        script = run_cli(server.lote_bin, ["completion", shell], server.env()).stdout
        assert "complete -F _lote lote" in script
    path = tmp_path / "lote.bash"
    path.write_text(run_cli(server.lote_bin, ["completion", "bash"], server.env()).stdout)

    def complete(*words):
        line = " ".join(("lote",) + words)
        prog = (f"source {path}; COMP_WORDS=(lote {' '.join(words)}); COMP_CWORD={len(words)}; "
                f"COMP_LINE='{line}'; _lote; printf '%s\\n' \"${{COMPREPLY[@]}}\"")
        return subprocess.run(["bash", "-c", prog], capture_output=True, text=True, check=True).stdout.split()

    assert complete("batch-") == ["batch-endpoint", "batch-deployment"] or \
        sorted(complete("batch-")) == ["batch-deployment", "batch-endpoint"]
    assert "list-jobs" in complete("batch-endpoint", "")
    assert "--input-type" in complete("batch-endpoint", "invoke", "--input-")
    assert complete("job", "str") == ["stream"]
    p = run_cli(server.lote_bin, ["completion", "fish"], server.env(), check=False)
    assert p.returncode == 2


def test_not_found_names_the_near_name(server):
    server.cli("compute", "create", "-n", "batch-cluster")
    p = server.cli("compute", "show", "-n", "batch-clustr", check=False)
    assert p.returncode == EXIT_NOT_FOUND
    assert "did you mean 'batch-cluster'" in p.stderr
    p = server.cli("compute", "show", "-n", "zzzzzzzzzzzz", check=False)
    assert p.returncode == EXIT_NOT_FOUND and "did you mean" not in p.stderr
