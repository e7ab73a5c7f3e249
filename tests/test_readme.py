"""README stays true: CI runs its test command verbatim, and its command-line section names real commands."""

import re
import shlex
from pathlib import Path

from bptt.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _bash_blocks(text: str) -> list[str]:
    return re.findall(r"```bash\n(.*?)```", text, flags=re.S)


def test_setup_is_two_commands_and_the_main_job_needs_no_torch():
    setup = README[README.index("## Set-up"):README.index("## Quick tour")]
    blocks = [b.strip() for b in _bash_blocks(setup)]
    assert len(blocks) == 2 and all("\n" not in b for b in blocks)
    main_job, tests = blocks
    assert "torch" not in main_job and " -e " not in main_job and main_job.endswith(".venv/bin/bptt lab")
    assert "pip install torch==2.13.0 " in tests and tests.endswith("-m pytest")


def test_ci_runs_the_readme_test_command_verbatim():
    setup = README[README.index("## Set-up"):README.index("## Quick tour")]
    tests = _bash_blocks(setup)[1].strip()
    ci = [ln for ln in (ROOT / ".ci" / "run").read_text().splitlines() if ln and not ln.startswith("#")]
    assert ci[-1] == tests


def _cli_lines() -> list[list[str]]:
    section = README[README.index("Command line"):README.index("## Layout")]
    lines = []
    for block in _bash_blocks(section):
        for ln in block.splitlines():
            ln = ln.split("   #")[0].strip()
            if ln.startswith(".venv/bin/bptt "):
                lines.append(shlex.split(ln.replace("[", "").replace("]", ""))[1:])
    return lines


def test_command_line_section_uses_full_paths_and_real_subcommands(capsys):
    lines = _cli_lines()
    assert len(lines) >= 6
    section = README[README.index("Command line"):README.index("## Layout")]
    for block in _bash_blocks(section):
        for ln in block.splitlines():
            assert ln.startswith(".venv/bin/"), ln  # runs as written after the set-up, without activation
    for argv in lines:
        try:
            code = main([argv[0], "--help"])
        except SystemExit as exit_:  # argparse's --help exits; a CLI may also return the status
            code = exit_.code
        assert code in (0, None), argv
        assert capsys.readouterr().out  # the help text of a command that exists


def test_linked_files_exist():
    for target in re.findall(r"\]\(([^)#]+)\)", README):
        if not target.startswith("http"):
            assert (ROOT / target).exists(), target
