"""The watch page in a real headless Chromium, driven by Playwright for Python.

Needs the system Chromium (apt-get install chromium) and the Python package
playwright (pip install playwright, or the ``browser`` extra); it bundles its
driver, and the tests launch the system `chromium`, so no browser is downloaded.
Without them the tests skip (fail with TINYGRAD_BP_REQUIRE_TOOLS=1, as in CI).

Oracles: ``train.fit`` on a model built here, and the explain table.
"""

import threading

import pytest

from conftest import require_module, require_program
from tinygrad_bp import data, explain
from tinygrad_bp.nn import MLP, get_weights
from tinygrad_bp.train import fit
from tinygrad_bp.watch import record, server
from tinygrad_bp.watch.session import Session, make_config

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT = 15_000  # ms, for anything the page is waited for


@pytest.fixture(scope="module")
def browser():
    chromium = require_program("chromium", "apt-get install chromium")
    require_module("playwright", 'pip install playwright (or pip install -e ".[browser]")')
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


def serve(config):
    httpd = server.WatchServer(Session(config), 0)
    httpd.session.start()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    return httpd, thread


@pytest.fixture
def open_page(browser):
    """open_page(strict=False, **settings): a page on a fresh server training these settings.

    Playwright's waits evaluate JavaScript, which the page's own Content-Security-Policy
    forbids; only a ``strict`` page keeps the policy (and is then only read, not waited on).
    """
    opened = []

    def open_page(strict=False, size=(1280, 900), **settings):
        httpd, thread = serve(make_config(**settings))
        context = browser.new_context(
            viewport={"width": size[0], "height": size[1]}, bypass_csp=not strict
        )
        page = context.new_page()
        page.set_default_timeout(TIMEOUT)
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
        page.goto(httpd.url)
        page.wait_for_selector("#unit-1-1")
        page.httpd = httpd
        opened.append((context, httpd, thread))
        return page

    yield open_page
    for context, httpd, thread in opened:
        context.close()
        httpd.shutdown()
        httpd.close()
        thread.join(timeout=10)


def reference(dataset, hidden, seed, lr, epochs):
    X, y = data.load(dataset, n=100, rng=seed)
    net = MLP(2, [*hidden, 1], rng=seed)
    return net, X, y, fit(net, X, y, lr=lr, epochs=epochs)


def shown_epoch(page):
    return int(page.text_content("#epoch"))


def pause_and_settle(page):
    """Pause, then wait until the page shows the epoch the session stopped at."""
    page.click("#play")
    page.wait_for_function("document.getElementById('play').textContent.includes('Play')")
    page.wait_for_function(
        f"document.getElementById('epoch').textContent === '{page.httpd.session.epoch}'"
    )
    return shown_epoch(page), float(page.get_attribute("#loss", "data-value"))


def boundary_picture(page):
    return page.eval_on_selector("#boundary", "canvas => canvas.toDataURL()")


def test_the_page_loads_without_script_errors(open_page):
    page = open_page(strict=True, dataset="xor", seed=1)
    assert page.text_content("#epoch") == "0" and page.text_content("#loss") == "-"
    assert page.locator("#network .unit").count() == 2 + 2 + 1
    assert page.locator("#network .edge").count() == 3 * 2 + 3 * 1
    assert page.errors == []


def test_the_epoch_advances_while_playing_and_stops_on_pause(open_page):
    page = open_page(dataset="xor", seed=1)
    page.click("#play")
    page.wait_for_function("Number(document.getElementById('epoch').textContent) > 50")
    epoch, _ = pause_and_settle(page)
    page.wait_for_timeout(500)  # a paused session trains nothing: the counter stays put
    assert shown_epoch(page) == epoch == page.httpd.session.epoch
    assert page.errors == []


def test_pause_stops_the_epoch_shown_at_once_on_a_busy_machine(open_page):
    # Epochs of 100 examples through a 2-12-12-1 network: Pause lands inside one.
    page = open_page(dataset="moons", hidden=[12, 12], seed=1)
    # A slow machine: the page runs six times slower than it could, so frames arrive faster
    # than it draws them (a page that drew each in turn went on moving after Pause).
    page.context.new_cdp_session(page).send("Emulation.setCPUThrottlingRate", {"rate": 6})
    page.evaluate(
        """() => {
          const epoch = document.getElementById("epoch");
          const play = document.getElementById("play");
          window.shown = [];
          play.addEventListener("click", (e) => window.shown.push(["click", e.timeStamp]), true);
          new MutationObserver(() => window.shown.push([epoch.textContent, performance.now()]))
            .observe(epoch, {childList: true, characterData: true, subtree: true});
          new MutationObserver(() => window.shown.push([play.textContent, performance.now()]))
            .observe(play, {childList: true, characterData: true, subtree: true});
        }"""
    )
    for _ in range(3):
        before = shown_epoch(page)
        page.click("#play")
        page.wait_for_function("document.getElementById('play').textContent.includes('Pause')")
        page.wait_for_function(f"Number(document.getElementById('epoch').textContent) > {before}")
        page.evaluate("window.shown = []")
        page.click("#play")
        page.wait_for_function("document.getElementById('play').textContent.includes('Play')")
        page.wait_for_timeout(500)  # anything still queued would show by now
        shown = page.evaluate("window.shown")
        click = next(k for k, (kind, _) in enumerate(shown) if kind == "click")
        epochs = {text for text, _ in shown[click + 1 :] if text.isdigit()}
        # After the click, the epoch shown changes once at most: to where training stopped,
        session = page.httpd.session
        assert len(epochs) <= 1 and shown_epoch(page) == session.epoch and not session.playing
        # which the page says, to the example (online, Pause stops after the example trained)
        assert page.text_content("#state").startswith("paused, online")
        assert (f"{session.position} of 100 examples" in page.text_content("#state")) == (
            session.position > 0
        )
        # and soon: the goal is 0.3 s; six times slower, the page itself takes about that
        # to draw one frame, so the bound here only catches a page left moving for seconds
        paused = next(time for text, time in shown if "Play" in text)
        assert paused - shown[click][1] < 2000
    assert page.errors == []


def test_reset_with_the_same_seed_reproduces_the_run_of_fit(open_page):
    page = open_page(dataset="xor", seed=1)
    page.click("#play")
    page.wait_for_function("Number(document.getElementById('epoch').textContent) > 20")
    first = pause_and_settle(page)
    page.click("#reset")
    page.wait_for_function("document.getElementById('epoch').textContent === '0'")
    page.click("#play")
    page.wait_for_function("Number(document.getElementById('epoch').textContent) > 20")
    second = pause_and_settle(page)
    *_, history = reference("xor", [2], 1, 2.0, max(first[0], second[0]))
    for epoch, loss in (first, second):
        assert loss == history.losses[epoch - 1]


def test_the_boundary_picture_changes_as_it_learns(open_page):
    page = open_page(dataset="moons", hidden=[4], seed=2)
    before = boundary_picture(page)
    for _ in range(5):
        page.click("#step-epoch")
    page.wait_for_function("document.getElementById('epoch').textContent === '5'")
    assert boundary_picture(page) != before


def _shown(page, ids):
    return {name: page.text_content(f"#{name}") for name in ids}


def test_clicking_a_neuron_shows_the_numbers_explain_prints(open_page):
    page = open_page(dataset="moons", hidden=[3], seed=4)
    for _ in range(3):
        page.click("#step-epoch")
    page.wait_for_function("document.getElementById('epoch').textContent === '3'")
    net, X, y, _ = reference("moons", [3], 4, 0.5, 3)
    weights = get_weights(net)
    for example in (0, 57):
        if example:  # choose the example by clicking its point on the boundary picture
            x, y_pixel = page.evaluate(
                """([extent, point]) => {
                    const canvas = document.getElementById("boundary");
                    const [xLo, xHi, yLo, yHi] = extent;
                    return [(point[0] - xLo) / (xHi - xLo) * canvas.width,
                            (yHi - point[1]) / (yHi - yLo) * canvas.height];
                }""",
                [page.httpd.session.frame()["extent"], X[example].tolist()],
            )
            page.click("#boundary", position={"x": x, "y": y_pixel})
            page.wait_for_function(f"document.body.textContent.includes('example {example + 1}:')")
        table = explain.explain(weights, X[example], y[example : example + 1], 0.5)
        for layer, unit in ((1, 2), (2, 1)):
            page.click(f"#unit-{layer}-{unit} circle")
            page.wait_for_selector(f"text=Unit o[{layer}][{unit}]")
            shown = _shown(page, ["unit-o", "unit-delta", "unit-delta-autograd", "dw-0", "dw-1"])
            assert shown == {
                "unit-o": f"{table[f'o[{layer}][{unit}]'].closed_form:.8f}",
                "unit-delta": f"{table[f'delta[{layer}][{unit}]'].closed_form:.8f}",
                "unit-delta-autograd": f"{table[f'delta[{layer}][{unit}]'].autograd:.8f}",
                "dw-0": f"{table[f'Delta w[{layer}][0,{unit}]'].closed_form:.8f}",
                "dw-1": f"{table[f'Delta w[{layer}][1,{unit}]'].closed_form:.8f}",
            }
    assert page.errors == []


def test_the_recorded_page_works_offline_and_its_slider_moves(browser, tmp_path):
    path = tmp_path / "run.html"
    record.record(make_config(dataset="moons", hidden=[4], seed=2), 40, path)
    context = browser.new_context(offline=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    errors, requests = [], []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda sent: requests.append(sent.url))
    page.goto(path.as_uri())
    page.wait_for_selector("#unit-1-1")
    assert page.text_content("#epoch") == "40"
    last = boundary_picture(page)
    page.eval_on_selector("#slider", "s => { s.value = '0'; s.dispatchEvent(new Event('input')); }")
    assert page.text_content("#epoch") == "0" and page.text_content("#loss") == "-"
    assert boundary_picture(page) != last
    page.eval_on_selector(
        "#slider", "s => { s.value = '10'; s.dispatchEvent(new Event('input')); }"
    )
    *_, history = reference("moons", [4], 2, 0.5, 10)
    assert float(page.get_attribute("#loss", "data-value")) == history.losses[-1]
    assert errors == [] and requests == [path.as_uri()]
    context.close()


def test_the_settings_start_a_new_run_and_a_bad_one_is_explained(open_page):
    page = open_page(dataset="xor", seed=1)
    page.click("#step-epoch")
    page.wait_for_function("document.getElementById('epoch').textContent === '1'")
    page.fill("#hidden", "64")
    page.press("#hidden", "Enter")
    page.wait_for_function("document.getElementById('error').textContent !== ''")
    assert "at most 16 units per layer" in page.text_content("#error")
    assert page.input_value("#hidden") == "2"  # back to the session's own setting
    assert page.text_content("#epoch") == "1"  # and nothing changed
    page.select_option("#dataset", "moons")
    page.wait_for_function("document.querySelectorAll('#network .unit').length === 2 + 8 + 1")
    assert page.text_content("#epoch") == "0" and page.input_value("#hidden") == "8"
    page.select_option("#mode", "batch")
    page.wait_for_function("document.getElementById('step-example').disabled")
    page.click("#step-epoch")
    page.wait_for_function("document.getElementById('epoch').textContent === '1'")
    X, y = data.load("moons", n=100, rng=1)
    net = MLP(2, [8, 1], rng=1)
    history = fit(net, X, y, lr=0.5, epochs=1, batch_size=None)
    assert float(page.get_attribute("#loss", "data-value")) == history.losses[0]
    refused = "the server responded with a status of 400"  # the console's note of the 64
    assert [error for error in page.errors if refused not in error] == []


def _inside(page, selector):
    """Whether the element is wholly inside the window as it is scrolled now."""
    return page.evaluate(
        """(selector) => {
            const box = document.querySelector(selector).getBoundingClientRect();
            return box.top >= 0 && box.top < window.innerHeight - 40 && box.left >= 0 &&
                   box.right <= window.innerWidth;
        }""",
        selector,
    )


def test_a_clicked_neurons_numbers_come_into_view_on_a_laptop_screen(open_page):
    page = open_page(dataset="xor", seed=1, size=(1366, 768))
    page.click("#step-epoch")
    page.click("#unit-1-1 circle")
    page.wait_for_selector("text=Unit o[1][1]")
    assert _inside(page, "#details .details-body")  # it started below the fold
    # XOR's inputs and target as the data are: 0 and 1, not 0.00000000
    assert "x = (0, 0), target y = 0," in page.text_content("#details")
    assert page.errors == []


def test_the_page_reflows_at_800_pixels_and_four_hidden_layers_fit(open_page):
    page = open_page(dataset="moons", hidden=[4, 4, 4, 4], seed=1, size=(800, 900))
    page.click("#step-epoch")
    page.wait_for_function("document.getElementById('epoch').textContent === '1'")
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= 800  # nothing sticks out to the right: no sideways scrolling
    fits = page.evaluate(
        """() => {
            const svg = document.getElementById("network").getBoundingClientRect();
            return [...document.querySelectorAll("#network text")].every((text) => {
                const box = text.getBoundingClientRect();
                return box.left >= svg.left - 1 && box.right <= svg.right + 1;
            });
        }"""
    )
    assert fits  # "target y = ..." and every delta inside the picture
    # each delta on a card: no edge runs through its text
    cards = page.locator("#network .unit rect.card").count()
    assert cards == 4 * 4 + 1
    assert page.errors == []
