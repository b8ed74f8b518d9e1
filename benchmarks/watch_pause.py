"""How soon the live page stops after a click on Pause, and the trainer's epoch rate.

``python benchmarks/watch_pause.py --dataset spirals --clicks 30 --burners 2`` runs
``tinygrad-bp watch --no-browser`` in a process of its own, as a user runs it, opens the
page in headless Chromium (Playwright, the system ``chromium``), and clicks Play, then
Pause 0.3 to 1.3 s later, ``--clicks`` times. For each Pause it reports the time from
the click (the input event's own time stamp, so a page too busy to take the click at
once is counted) to the page showing the paused state the server answered, how many
epoch values the page showed after the click, and whether the epoch shown at the end
is the server's. ``--burners N`` keeps N other processes spinning (``while True:
pass``) meanwhile, to load the machine; they are killed when the script ends, however
it ends. ``--throttle R`` makes the page's CPU R times slower (Chromium's emulation).
``--checkout DIR`` serves the tinygrad_bp of another checkout (an earlier commit, to
compare).

``python benchmarks/watch_pause.py --rate`` times one epoch of each data set's default
network, interleaved: as the session trains it now (fit's step kept for the run, the
pause flag read between examples) and as it did before (``fit(..., epochs=1)`` for
every epoch, which traces its step each time), and prints the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.harness import interleaved_medians  # noqa: E402
from tinygrad_bp.losses import half_sse  # noqa: E402
from tinygrad_bp.train import fit  # noqa: E402
from tinygrad_bp.watch.session import DATASETS, Session, make_config  # noqa: E402

TARGET = 0.3  # seconds, the page's goal from click to the paused state shown

# Page-side records: the click's time stamp and each change of the epoch and of the button.
WATCH_PAGE = """() => {
  const epoch = document.getElementById("epoch"), play = document.getElementById("play");
  window.log = [];
  play.addEventListener("click", (e) => window.log.push(["click", e.timeStamp, ""]), true);
  const note = (kind, node) => () => window.log.push([kind, performance.now(), node.textContent]);
  const options = {childList: true, characterData: true, subtree: true};
  new MutationObserver(note("epoch", epoch)).observe(epoch, options);
  new MutationObserver(note("play", play)).observe(play, options);
}"""


@contextmanager
def burners(count: int) -> Iterator[None]:
    """``count`` processes spinning on a core each, killed on the way out."""
    spinning = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        yield
    finally:
        for process in spinning:
            process.kill()
            process.wait()


@contextmanager
def watch_server(dataset: str, batch: bool, checkout: Path) -> Iterator[str]:
    """``tinygrad-bp watch`` of the tinygrad_bp in ``checkout``, in its own process;
    yields the page's URL."""
    command = [sys.executable, "-m", "tinygrad_bp", "watch", "--no-browser", "--port", "0"]
    command += ["--dataset", dataset] + (["--batch"] if batch else [])
    environment = {**os.environ, "PYTHONPATH": str(checkout)}
    server = subprocess.Popen(
        command, stdout=subprocess.PIPE, text=True, cwd=checkout, env=environment
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        if not line.startswith("watching at "):
            raise RuntimeError(f"tinygrad-bp watch said {line!r}")
        yield line.split()[2]
    finally:
        server.kill()
        server.wait()


def server_epoch(url: str) -> int:
    with urllib.request.urlopen(url + "frame") as answer:
        return int(json.load(answer)["epoch"])


def measure_pauses(url: str, clicks: int, throttle: float) -> list[dict[str, float]]:
    """Play, then Pause, ``clicks`` times; one record per Pause."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("needs chromium (apt-get install chromium)")
    rows = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context(bypass_csp=True)  # for Playwright's waits
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(url)
        page.wait_for_selector("#unit-1-1")
        if throttle > 1:
            cdp = context.new_cdp_session(page)
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": throttle})
        page.evaluate(WATCH_PAGE)
        for _ in range(clicks):
            page.click("#play")
            page.wait_for_function("document.getElementById('play').textContent.includes('Pause')")
            time.sleep(random.uniform(0.3, 1.3))
            page.evaluate("window.log = []")
            page.click("#play")
            page.wait_for_function("document.getElementById('play').textContent.includes('Play')")
            time.sleep(0.5)  # anything still on its way would show by now
            log = page.evaluate("window.log")
            click = next(t for kind, t, _ in log if kind == "click")
            paused = next(t for kind, t, text in log if kind == "play" and "Play" in text)
            shown = [text for kind, t, text in log if kind == "epoch" and t >= click]
            final = server_epoch(url)
            rows.append(
                {
                    "seconds": (paused - click) / 1000,
                    "values": len(set(shown)),
                    "true": page.text_content("#epoch") == str(final),
                }
            )
        browser.close()
    return rows


def report_pauses(rows: list[dict[str, float]], heading: str) -> None:
    ms = sorted(1000 * row["seconds"] for row in rows)
    print(heading)
    print("  click to paused state shown, ms: " + " ".join(f"{t:.0f}" for t in ms))
    p90 = ms[max(0, round(0.9 * len(ms)) - 1)]
    print(
        f"  min {ms[0]:.0f}  median {statistics.median(ms):.0f}  p90 {p90:.0f}  max {ms[-1]:.0f}"
        f"  over {1000 * TARGET:.0f} ms: {sum(t > 1000 * TARGET for t in ms)} of {len(ms)}"
    )
    print(
        f"  epoch values shown after the click: at most {max(row['values'] for row in rows)}; "
        f"epoch shown = the server's: {sum(bool(row['true']) for row in rows)} of {len(rows)}"
    )


def epoch_rates(rounds: int) -> None:
    """Per epoch, now against fit(..., epochs=1) per epoch, interleaved."""
    print(f"{'data set':<10} {'mode':<7} {'now':>9} {'fit/epoch':>10} {'speed-up':>9}")
    for dataset in DATASETS:
        for online in (True, False):
            current = Session(make_config(dataset=dataset, seed=1, online=online))
            before = Session(make_config(dataset=dataset, seed=1, online=online))

            def fit_epoch(session: Session = before) -> None:
                fit(
                    session.model,
                    session.X,
                    session.y,
                    loss=half_sse,
                    lr=session.config.lr,
                    epochs=1,
                    batch_size=1 if session.config.online else None,
                    progress=False,
                )

            times = interleaved_medians({"now": current.step_epoch, "fit": fit_epoch}, rounds)
            mode = "online" if online else "batch"
            now, fit_ = 1000 * times["now"], 1000 * times["fit"]
            print(f"{dataset:<10} {mode:<7} {now:>7.2f}ms {fit_:>8.2f}ms {fit_ / now:>8.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=DATASETS, default="spirals")
    parser.add_argument("--batch", action="store_true")
    parser.add_argument("--clicks", type=int, default=30)
    parser.add_argument("--burners", type=int, default=0)
    parser.add_argument("--throttle", type=float, default=1.0)
    parser.add_argument("--checkout", type=Path, default=ROOT, help="serve this tinygrad_bp")
    parser.add_argument("--rate", action="store_true", help="time the epochs instead")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    if args.rate:
        epoch_rates(args.rounds)
        return
    with burners(args.burners), watch_server(args.dataset, args.batch, args.checkout) as url:
        rows = measure_pauses(url, args.clicks, args.throttle)
    mode = "batch" if args.batch else "online"
    report_pauses(
        rows,
        f"{args.dataset} ({mode}), {args.burners} burners, page CPU / {args.throttle:g}, "
        f"{args.clicks} pauses:",
    )


if __name__ == "__main__":
    main()
