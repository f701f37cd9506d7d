"""The main job end to end: emulator, stdio subprocess server, mcp client, every step."""

import io

from server.demo import run


def test_demo_runs_every_step() -> None:
    out = io.StringIO()
    exit_code = run(time_scale=600, out=out)
    transcript = out.getvalue()
    assert exit_code == 0, transcript
    for step in range(1, 11):
        assert f"\n== {step}. " in transcript
    assert "status READY" in transcript
    assert "Demo finished: every step succeeded." in transcript
