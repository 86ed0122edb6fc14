#!/usr/bin/env python3
"""The playground in a real browser: headless Chromium driven by Selenium.

Loads the page from a live server and checks what a person would see:
  - the seed's 3-2-1 network, one gradient step, and the figures on the page
    (to 1e-12 against the seed notebook), each shown as a curl command that
    gives the same answer;
  - applying the weight deltas lowers the loss; pasted data and network JSON;
  - training XOR as a job: the loss curve falls, the decision boundary is drawn,
    the URL keeps the setup; a long job can be cancelled;
  - keyboard use, labels on every control, and a phone-width (375 px) layout;
  - compression: the browser's fetch gets a gzip answer (which it inflates) and
    sends a gzip body made with CompressionStream.

Usage: test_playground.py BASE_URL [--artifacts DIR]
Needs chromium and chromedriver (Debian: chromium, chromium-driver) and selenium.
Prints one line per test and a closing line "browser: N passed, N failed";
exits non-zero if any test failed.
"""

import argparse
import base64
import json
import math
import os
import shlex
import shutil
import sys
import tempfile
import time
import traceback
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

SEED = {
    "output": 0.48497343084992534,
    "error": 0.11502656915007464,
    "layers.1.error_term": 0.028730669543515018,
    "layers.0.error_term": [0.00070802218654941, -0.00204471402395086],
    "layers.1.weight_delta": [0.00804047394804529, 0.00555918091168283],
    "layers.0.weight_delta": [
        [1.7700554663735340e-04, -5.1117850598771553e-04],
        [3.5401109327470683e-05, -1.0223570119754312e-04],
        [-7.0802218654941366e-05, 2.0447140239508623e-04],
    ],
    "layers.0.output": [0.5597136492671929, 0.38698582386066455],
}
SEED_NETWORK = {"layers": [{"weights": [[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]]}, {"weights": [0.1, -0.3]}]}


def close(a, b, tol=1e-12):
    if isinstance(a, list) or isinstance(b, list):
        return isinstance(a, list) and isinstance(b, list) and len(a) == len(b) and all(close(x, y, tol) for x, y in zip(a, b))
    return math.isclose(a, b, rel_tol=0, abs_tol=tol)


class Playground:
    def __init__(self, base, artifacts):
        self.base = base.rstrip("/")
        self.artifacts = artifacts
        options = Options()
        binary = os.environ.get("CHROMIUM_BIN") or shutil.which("chromium") or shutil.which("chromium-browser")
        if binary:
            options.binary_location = binary
        for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1366,900", "--hide-scrollbars", "--force-device-scale-factor=1",
                     "--lang=en-US"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver_path = os.environ.get("CHROMEDRIVER_BIN") or shutil.which("chromedriver")
        service = Service(executable_path=driver_path) if driver_path else Service()
        self.driver = webdriver.Chrome(service=service, options=options)
        self.driver.set_script_timeout(30)
        self.console = []

    # ---- helpers ----

    def open(self, fragment=""):
        self.driver.get(self.base + "/" + fragment)
        self.wait(lambda d: d.execute_script("return document.body.dataset.ready === 'true'"), 20, "the page did not start")

    def wait(self, condition, timeout=30, message="timed out"):
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(condition)
        except TimeoutException:
            raise AssertionError(f"{message} (after {timeout} s)") from None

    def el(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def select(self, css, value):
        Select(self.el(css)).select_by_value(value)

    def fill(self, css, value):
        field = self.el(css)
        field.clear()
        field.send_keys(str(value))

    def field(self, name):
        """The value of a step figure, as the server sent it, and its text on the page."""
        node = self.el(f'[data-field="{name}"]')
        return json.loads(node.get_attribute("data-json")), node.text

    def steps(self):
        return int(self.el("#step-output").get_attribute("data-steps") or 0)

    def step(self):
        before = self.steps()
        self.el("#step").click()
        self.wait(lambda d: self.steps() > before or self.el("#step-problem").is_displayed(), 30, "no step result")
        problem = self.el("#step-problem")
        assert not problem.is_displayed(), f"the step failed: {problem.text}"

    def calls(self):
        """The API log, newest first: (path, status, curl command)."""
        return self.js(
            """return [...document.querySelectorAll('#log .call')].map(li => [
                 li.dataset.path, li.querySelector('.call-status').textContent,
                 li.querySelector('pre.curl').textContent])""")

    def curl_answer(self, command):
        """Runs a logged `curl -s URL -d BODY` the way curl would, and returns the JSON answer."""
        words = shlex.split(command)
        assert words[0] == "curl", command
        url = next(w for w in words if w.startswith("http"))
        assert url.startswith(self.base), url
        body = words[words.index("-d") + 1].encode() if "-d" in words else None
        # curl -d sends application/x-www-form-urlencoded; the service reads JSON whatever it says.
        request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def screenshot(self, name):
        """The whole page, not just the window."""
        os.makedirs(self.artifacts, exist_ok=True)
        width = self.js("return document.documentElement.clientWidth")
        height = self.js("return document.documentElement.scrollHeight")
        shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
        path = os.path.join(self.artifacts, name)
        with open(path, "wb") as file:
            file.write(base64.b64decode(shot["data"]))
        return path

    def collect_console(self):
        try:
            self.console += self.driver.get_log("browser")
        except Exception:  # noqa: BLE001 - not every driver keeps logs
            pass

    def quit(self):
        self.driver.quit()


# ---------- the tests ----------

def test_page_loads(p):
    p.open()
    assert p.driver.title == "Backprop playground", p.driver.title
    assert p.el("h1").text.startswith("Backprop")
    for css in ("/playground/style.css", "/playground/app.js"):
        with urllib.request.urlopen(p.base + css, timeout=10) as response:
            assert response.status == 200
    # No CDN: every script and stylesheet comes from this server.
    external = p.js("""return [...document.querySelectorAll('script[src], link[href]')]
        .map(e => e.src || e.href).filter(u => !u.startsWith(location.origin))""")
    assert external == [], f"resources from elsewhere: {external}"
    # Every control has a name a screen reader can read.
    unlabelled = p.js("""return [...document.querySelectorAll('input, select, textarea, button')].filter(e => {
        const named = e.labels && e.labels.length && [...e.labels].some(l => l.textContent.trim());
        return !(named || e.getAttribute('aria-label') || (e.tagName === 'BUTTON' && e.textContent.trim()));
      }).map(e => e.id || e.outerHTML.slice(0, 80))""")
    assert unlabelled == [], f"controls without a label: {unlabelled}"
    # The default setup is the seed notebook's network.
    assert Select(p.el("#data")).first_selected_option.get_attribute("value") == "seed"


def test_seed_gradient_step(p):
    p.open()
    p.select("#data", "seed")
    network = json.loads(p.el("#net-json").get_attribute("value"))
    assert network == SEED_NETWORK, network
    assert p.el("#net-canvas").get_attribute("aria-label").startswith("Network diagram: 3-2-1 network")
    assert p.el("#lr").get_attribute("value") == "0.5"
    p.step()
    # The service's figures, printed as Python prints them (within 1e-12 of the seed's).
    value, text = p.field("output")
    assert text.startswith("0.484973430849925") and float(text) == value, text
    for name, expected in SEED.items():
        got, _ = p.field(name)
        assert close(got, expected), f"{name}: {got} != {expected}"
    _, text = p.field("layers.0.weight_delta")
    assert text.splitlines()[0] == "[[ 1.77005547e-04 -5.11178506e-04]", text
    _, text = p.field("layers.1.weight_delta")
    assert text == "[0.00804047 0.00555918]", text
    value, text = p.field("error")
    assert text.startswith("0.115026569150074") and float(text) == value, text
    # The notebook's names stand beside the figures.
    assert "delta_w_i_h" in p.el("#step-output").text and "hidden_error_term" in p.el("#step-output").text
    # Every digit, switched on from the keyboard.
    box = p.el("#full")
    p.js("arguments[0].focus()", box)
    box.send_keys(Keys.SPACE)
    p.wait(lambda d: "0.00017700554663735" in p.field("layers.0.weight_delta")[1], 5, "no full precision")
    # The two calls are in the log as curl commands that give the same figures.
    calls = p.calls()
    assert [c[0] for c in calls[:2]] == ["/gradient", "/forward"], calls
    assert all(c[1].startswith("200") for c in calls[:2]), calls
    curl = calls[0][2]
    assert curl.startswith(f"curl -s '{p.base}/gradient' -d '"), curl
    answer = p.curl_answer(curl)
    assert answer["output"] == p.field("output")[0] and close(answer["layers"][0]["weight_delta"], SEED["layers.0.weight_delta"])
    forward = p.curl_answer(calls[1][2])
    assert close(forward["layers"][0]["output"], SEED["layers.0.output"])


def test_apply_deltas_lowers_loss(p):
    p.open()
    p.select("#data", "seed")
    p.step()
    loss0, _ = p.field("loss")
    delta, _ = p.field("layers.1.weight_delta")
    p.el("#apply").click()
    p.wait(lambda d: p.steps() >= 2, 30, "no step after Apply")
    loss1, _ = p.field("loss")
    weights, _ = p.field("layers.1.weights")
    assert close(weights, [0.1 + delta[0], -0.3 + delta[1]]), weights
    assert loss1 < loss0, (loss0, loss1)
    assert "after 1 applied step" in p.el("#net-caption").text
    # Reset brings the seed's weights back.
    p.el("#reset-net").click()
    assert json.loads(p.el("#net-json").get_attribute("value")) == SEED_NETWORK


def test_pasted_data_and_network_json(p):
    p.open()
    p.select("#data", "pasted")
    p.fill("#pasted", "0.5, 0.1, -0.2, 0.6\n1, 2, 3, 0.2\n")
    assert "2 samples of 3 inputs" in p.el("#data-summary").text, p.el("#data-summary").text
    # The builder: a generated 3-2-1 network, its weights drawn from the seed.
    p.el("#to-builder").click()
    assert p.el("#inputs").get_attribute("value") == "3"
    units = p.driver.find_elements(By.CSS_SELECTOR, '#layers input[data-k="units"]')
    activations = p.driver.find_elements(By.CSS_SELECTOR, '#layers select[data-k="act"]')
    assert len(units) == 2, len(units)
    units[0].clear()
    units[0].send_keys("2")
    Select(activations[0]).select_by_value("sigmoid")
    p.fill("#seed", 11)
    built = json.loads(p.el("#net-json").get_attribute("value"))
    assert built == {"inputs": 3, "layers": [{"units": 2, "activation": "sigmoid"}, {"units": 1, "activation": "sigmoid"}],
                     "init": "auto", "seed": 11}, built
    p.step()
    weights, _ = p.field("layers.0.weights")
    assert len(weights) == 3 and all(len(row) == 2 for row in weights), weights
    assert p.el("#net-canvas").get_attribute("aria-label").startswith("Network diagram: 3-2-1 network")
    # The network JSON instead: the seed's given weights.
    p.js("document.getElementById('json-details').open = true")
    text = p.el("#net-json")
    p.js("arguments[0].value = ''", text)
    text.send_keys(json.dumps(SEED_NETWORK))
    p.wait(lambda d: "is the network" in p.el("#net-json-status").text, 5, "the JSON was not taken")
    assert p.el("#builder").get_attribute("disabled") is not None
    p.step()
    value, _ = p.field("output")
    assert close(value, SEED["output"]), value
    # A whole batch: the mean over both samples, one output per sample.
    p.el("#batch").click()
    p.step()
    outputs, _ = p.field("output")
    assert len(outputs) == 2 and outputs[0] == value, outputs
    # JSON that does not parse is said so, and the API's problems are shown.
    p.js("arguments[0].value = ''", text)
    text.send_keys('{"layers": [')
    assert "does not parse" in p.el("#net-json-status").text
    p.js("arguments[0].value = ''", text)
    text.send_keys('{"layers": [{"weights": [[1, 2], [3, 4]]}]}')
    p.el("#step").click()
    p.wait(lambda d: p.el("#step-problem").is_displayed(), 20, "no problem shown")
    assert "422" in p.el("#step-problem").text, p.el("#step-problem").text


def test_train_xor(p):
    p.open()
    p.select("#data", "xor")
    assert p.el("#inputs").get_attribute("value") == "2"
    assert json.loads(p.el("#net-json").get_attribute("value"))["layers"] == [
        {"units": 4, "activation": "sigmoid"}, {"units": 1, "activation": "sigmoid"}]
    p.fill("#seed", 7)
    p.fill("#ts", 7)
    p.fill("#lr", 2)
    p.select("#opt", "momentum")
    p.fill("#epochs", 2000)
    p.el("#train").click()
    p.wait(lambda d: p.el("#train-status").get_attribute("data-state") in ("done", "failed", "cancelled"),
           180, "training did not end")
    assert p.el("#train-status").get_attribute("data-state") == "done", p.el("#train-status").text
    assert "2000 epochs" in p.el("#train-status").text, p.el("#train-status").text
    rows = p.js("""return [...document.querySelectorAll('#loss-table tbody tr')]
        .map(tr => [...tr.cells].map(td => td.textContent))""")
    assert len(rows) >= 10, rows
    first, last = float(rows[0][1]), float(rows[-1][1])
    assert rows[-1][0] == "2000", rows[-1]
    assert last < first / 100 and last < 1e-3, (first, last)
    losses = [float(r[1]) for r in rows]
    assert losses[len(losses) // 2] < first, losses
    assert "loss from" in p.el("#curve-canvas").get_attribute("aria-label")
    # The job, its event stream and the boundary's batch are in the log.
    paths = [c[0] for c in p.calls()]
    assert "/train/jobs" in paths and any(x.endswith("/events") for x in paths) and "/forward" in paths, paths
    events = next(c for c in p.calls() if c[0].endswith("/events"))
    assert events[2].startswith("curl -sN "), events
    # The decision boundary: blue where XOR is 1, orange where it is 0.
    p.wait(lambda d: p.el("#boundary-canvas").get_attribute("data-drawn") == "true", 30, "no decision boundary")
    colours = p.js("""const c = arguments[0], x = c.getContext('2d');
        const d = x.getImageData(0, 0, c.width, c.height).data; let blue = 0, orange = 0, n = 0;
        for (let i = 0; i < d.length; i += 16) { n++; if (d[i+2] > d[i] + 40) blue++; else if (d[i] > d[i+2] + 40) orange++; }
        return [blue / n, orange / n]""", p.el("#boundary-canvas"))
    assert colours[0] > 0.1 and colours[1] > 0.1, colours
    # Download: the trained network as JSON, the one the job's result holds.
    folder = tempfile.mkdtemp(prefix="playground-download-")
    p.driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": folder})
    p.el("#download").click()
    saved = os.path.join(folder, "backprop-network-xor.json")
    p.wait(lambda d: os.path.exists(saved) and os.path.getsize(saved) > 0, 10, "no download")
    with open(saved) as file:
        downloaded = json.load(file)
    shutil.rmtree(folder, ignore_errors=True)
    assert [len(layer["weights"]) for layer in downloaded["layers"]] == [2, 4], downloaded
    assert all("biases" in layer and layer["activation"] == "sigmoid" for layer in downloaded["layers"]), downloaded
    # Save to the server by name: the stored network is the trained one.
    p.el("#save-name").send_keys("playground-xor")
    p.el("#save-trained").click()
    p.wait(lambda d: p.el("#save-status").get_attribute("data-state") == "saved", 10, "not saved")
    assert p.el("#save-status").get_attribute("data-version") == "1", p.el("#save-status").text
    with urllib.request.urlopen(f"{p.base}/networks/playground-xor") as answer:
        stored = json.load(answer)
    assert stored["network"]["layers"][0]["weights"] == downloaded["layers"][0]["weights"], stored
    # A step on the trained network, so that the screenshot shows every panel.
    p.el("#use-trained").click()
    p.fill("#sample", 2)
    p.step()
    output, _ = p.field("output")
    assert output > 0.9, output  # XOR(0, 1) = 1
    p.screenshot("playground.png")
    # The URL keeps the setup: a fresh load of it shows the same.
    url = p.driver.current_url
    assert "data=xor" in url and "lr=2" in url and "epochs=2000" in url, url
    p.driver.get("about:blank")
    p.driver.get(url)
    p.wait(lambda d: d.execute_script("return document.body.dataset.ready === 'true'"), 20)
    assert Select(p.el("#data")).first_selected_option.get_attribute("value") == "xor"
    assert p.el("#lr").get_attribute("value") == "2" and p.el("#epochs").get_attribute("value") == "2000"
    assert Select(p.el("#opt")).first_selected_option.get_attribute("value") == "momentum"
    assert len(json.loads(p.el("#net-json").get_attribute("value"))["layers"][0]["weights"]) == 2


def test_generated_data_and_cancel(p):
    p.open()
    p.select("#data", "spirals")
    summary = p.el("#data-summary").text
    assert "160 samples of 2 inputs, 40 held out" in summary, summary
    # The same data seed gives the same points.
    first = p.el("#sample-text").text
    p.fill("#dseed", 2)
    assert p.el("#sample-text").text != first
    p.fill("#dseed", 1)
    assert p.el("#sample-text").text == first
    p.fill("#epochs", 500000)
    p.el("#train").click()
    p.wait(lambda d: "epoch" in p.el("#train-status").text and "Training" in p.el("#train-status").text,
           60, "no progress event")
    cancel = p.el("#cancel")
    assert cancel.is_enabled()
    cancel.click()
    p.wait(lambda d: p.el("#train-status").get_attribute("data-state") == "cancelled", 60, "not cancelled")
    assert any(c[0].startswith("/train/jobs/") and c[2].startswith("curl -s -X DELETE") for c in p.calls())
    assert p.el("#train").is_enabled()


def test_keyboard_step(p):
    p.open()
    p.js("document.getElementById('sample').focus()")
    for _ in range(12):
        if p.js("return document.activeElement.id") == "step":
            break
        p.driver.switch_to.active_element.send_keys(Keys.TAB)
    assert p.js("return document.activeElement.id") == "step", "Tab does not reach the Step button"
    p.driver.switch_to.active_element.send_keys(Keys.ENTER)
    p.wait(lambda d: p.steps() >= 1, 30, "Enter on Step did nothing")


def test_phone_width(p):
    p.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                             {"width": 375, "height": 812, "deviceScaleFactor": 2, "mobile": True})
    try:
        p.open()
        p.step()
        p.select("#data", "circles")
        p.fill("#epochs", 100)
        p.el("#train").click()
        p.wait(lambda d: p.el("#train-status").get_attribute("data-state") in ("done", "failed", "cancelled"), 120)
        p.wait(lambda d: p.el("#boundary-canvas").get_attribute("data-drawn") == "true", 30, "no boundary")
        p.step()
        width = p.js("return document.documentElement.scrollWidth")
        assert width <= 375, f"the page is {width} px wide at 375 px"
        wide = p.js("""return [...document.querySelectorAll('body *')].filter(e => {
            const r = e.getBoundingClientRect(); return r.width > 0 && r.right > 376 && getComputedStyle(e).position !== 'absolute';
          }).map(e => e.tagName + '#' + e.id + '.' + e.className).slice(0, 5)""")
        assert wide == [], f"elements wider than the screen: {wide}"
        for css in ("#step", "#train", "#data"):
            box = p.el(css).rect
            assert box["height"] >= 36 and box["width"] >= 44, (css, box)
        p.screenshot("playground-phone.png")
    finally:
        p.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_fetch_gzip(p):
    """A browser's fetch sends Accept-Encoding with gzip: a large answer comes gzipped, and
    a body gzipped with CompressionStream gives the same answer as the plain one."""
    p.open()
    result = p.driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        (async () => {
          const input = Array.from({length: 200}, (_, i) => [i / 200, 1 - i / 200, 0.5]);
          const body = JSON.stringify({network: %s, input});
          const plain = await fetch('/forward', {method: 'POST', headers: {'Content-Type': 'application/json'}, body});
          const answer = await plain.json();
          const gzipped = await new Response(new Blob([body]).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer();
          const sent = await fetch('/forward', {method: 'POST', body: gzipped,
                                                headers: {'Content-Type': 'application/json', 'Content-Encoding': 'gzip'}});
          return {encoding: plain.headers.get('content-encoding'), vary: plain.headers.get('vary'),
                  outputs: answer.output.length, same: JSON.stringify(await sent.json()) === JSON.stringify(answer),
                  status: sent.status, gzippedBytes: gzipped.byteLength, bodyBytes: body.length};
        })().then(done, e => done({error: String(e)}));
    """ % json.dumps(SEED_NETWORK))
    assert "error" not in result, result
    assert result["encoding"] == "gzip", result
    assert "accept-encoding" in (result["vary"] or "").lower(), result
    assert result["outputs"] == 200, result
    assert result["status"] == 200 and result["same"], result
    assert result["gzippedBytes"] < result["bodyBytes"], result


def test_no_javascript_errors(p):
    p.collect_console()
    # The 422 that test_pasted_data_and_network_json asks for is logged as a failed
    # load (source "network"); anything else severe is a bug in the page.
    errors = [e for e in p.console if e.get("level") == "SEVERE" and e.get("source") != "network"]
    assert errors == [], errors


TESTS = [test_page_loads, test_seed_gradient_step, test_apply_deltas_lowers_loss, test_pasted_data_and_network_json,
         test_train_xor, test_generated_data_and_cancel, test_keyboard_step, test_phone_width, test_fetch_gzip,
         test_no_javascript_errors]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", help="the server, e.g. http://127.0.0.1:8080")
    parser.add_argument("--artifacts", default=os.path.join(".ci", "artifacts"), help="where screenshots go")
    parser.add_argument("-k", default="", help="run only the tests whose name contains this")
    args = parser.parse_args()
    playground = Playground(args.base, args.artifacts)
    passed = failed = 0
    try:
        for test in TESTS:
            if args.k not in test.__name__:
                continue
            started = time.monotonic()
            try:
                test(playground)
            except Exception as error:  # noqa: BLE001 - report every failure, run the rest
                failed += 1
                print(f"FAIL {test.__name__} ({time.monotonic() - started:.1f} s): {error!r}", flush=True)
                traceback.print_exc()
                try:
                    print("  page:", playground.driver.current_url[:200], flush=True)
                    playground.screenshot(f"failed-{test.__name__}.png")
                except Exception:  # noqa: BLE001
                    pass
            else:
                passed += 1
                print(f"PASS {test.__name__} ({time.monotonic() - started:.1f} s)", flush=True)
            if test is not test_no_javascript_errors:
                playground.collect_console()
    finally:
        playground.quit()
    print(f"browser: {passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
