"""The README's quickstart command works and prints where the predictions are."""
import os
import pathlib
import subprocess

REPO = pathlib.Path(__file__).resolve().parents[2]


def test_quickstart_scores_the_example_data(tmp_path):
    env = dict(os.environ, LOTE_HOME=str(tmp_path / "home"))
    proc = subprocess.run([str(REPO / "quickstart.sh")], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    line = next(l for l in proc.stdout.splitlines() if l.startswith("== predictions"))
    assert "(1000 rows and a header)" in line, line
    path = pathlib.Path(line.split(": ", 1)[1])
    assert path.is_file() and path.is_relative_to(tmp_path / "home")
    rows = path.read_text().splitlines()
    assert len(rows) == 1001
    assert rows[0] == "file,row,tip"
    assert rows[1].startswith("taxi-tip-00.csv,0,")
    assert rows[-1].startswith("taxi-tip-03.csv,249,")
    assert "Completed" in proc.stdout
