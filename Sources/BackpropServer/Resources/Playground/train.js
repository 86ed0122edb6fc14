// Training as a job: POST /train/jobs, its event stream drawn live as a loss
// curve, cancelling, and the trained network's decision boundary.
import { call, follow } from "./api.js";
import { grid } from "./data.js";
import { drawCurve } from "./draw.js";
import { short, pyRepr } from "./format.js";
import { prettyNetwork } from "./step.js";

const $ = (id) => document.getElementById(id);
const GRID = 40;

/** app: {state, view, networkSpec, drawAll, writeForm, refresh}; wires the Train panel. */
export function setupTraining(app) {
  const { state, view } = app;

  function trainBody() {
    const body = {
      network: app.networkSpec(),
      inputs: view.data.inputs,
      targets: view.data.targets,
      epochs: state.epochs,
      learning_rate: state.lr,
      shuffle: true,
      seed: state.ts,
      loss: state.loss,
    };
    if (state.bs !== "") body.batch_size = state.bs;
    if (state.opt === "adam") body.optimizer = { name: "adam" };
    else if (state.opt === "momentum") body.optimizer = { name: "sgd", momentum: state.mom };
    else if (state.opt === "nesterov") body.optimizer = { name: "sgd", momentum: state.mom, nesterov: true };
    else body.optimizer = "sgd";
    if (state.l2) body.l2 = state.l2;
    if (view.data.validation) body.validation = view.data.validation;
    if (state.pat !== "") body.early_stopping = { patience: state.pat };
    return body;
  }

  function setTraining(running) {
    $("train").disabled = running;
    $("cancel").disabled = !running;
    $("train").setAttribute("aria-busy", running ? "true" : "false");
  }

  function status(text, kind = "") {
    const p = $("train-status");
    p.textContent = text;
    p.className = `status ${kind}`;
  }

  let redraw = 0;
  function scheduleCurve() {
    if (redraw) return;
    redraw = requestAnimationFrame(() => {
      redraw = 0;
      drawCurve($("curve-canvas"), { ...view.curve, log: state.logy });
    });
  }

  function describeCurve() {
    const n = view.curve.loss.length;
    const canvas = $("curve-canvas");
    if (!n) return canvas.setAttribute("aria-label", "Loss curve: no training yet");
    const v = view.curve.validation ? `, validation loss ${short(view.curve.validation[n - 1])}` : "";
    canvas.setAttribute("aria-label", `Loss curve: ${n} points, loss from ${short(view.curve.loss[0])} at epoch ${view.curve.epoch[0]} to ${short(view.curve.loss[n - 1])} at epoch ${view.curve.epoch[n - 1]}${v}`);
    const body = $("loss-table").tBodies[0];
    body.replaceChildren();
    const every = Math.max(1, Math.ceil(n / 20));
    for (let k = 0; k < n; k++) {
      if (k % every && k !== n - 1) continue;
      const tr = document.createElement("tr");
      for (const v2 of [view.curve.epoch[k], view.curve.loss[k], view.curve.validation ? view.curve.validation[k] : undefined]) {
        const td = document.createElement("td");
        td.textContent = v2 === undefined || v2 === null ? "—" : Number.isInteger(v2) ? String(v2) : pyRepr(Number(v2.toPrecision(6)));
        tr.append(td);
      }
      body.append(tr);
    }
  }

  async function train() {
    delete $("train-status").dataset.state;
    let body;
    try {
      if (!view.data) throw new Error(view.dataError || "no data");
      body = trainBody();
    } catch (e) {
      return status(e.message, "bad");
    }
    setTraining(true);
    view.boundary = null;
    view.curve = { epoch: [], loss: [], validation: view.data.validation ? [] : null, epochs: state.epochs };
    describeCurve();
    app.drawAll();
    status("Starting a training job…");
    let created;
    try {
      created = await call("POST", "/train/jobs", body, { headers: true, note: "202 Accepted, with the job's Location" });
    } catch (e) {
      setTraining(false);
      const retry = e.status === 429 ? " Too many jobs: try again in a few seconds." : "";
      return status(`${e.message}${retry}`, "bad");
    }
    const id = created.body.id;
    const path = created.headers.get("Location") || `/train/jobs/${id}`;
    view.job = { id, path, close: null, progress: 0 };
    status(`Job ${id} queued.`);
    view.job.close = follow(`${path}/events`, {
      progress(p) {
        view.job.progress += 1;
        view.curve.epoch.push(p.epoch);
        view.curve.loss.push(p.loss);
        if (view.curve.validation) view.curve.validation.push(p.validation_loss);
        const v = p.validation_loss !== undefined ? `, validation loss ${short(p.validation_loss)}` : "";
        status(`Training: epoch ${p.epoch} of ${p.epochs}, loss ${short(p.loss)}${v}`, "running");
        scheduleCurve();
      },
      done(result) {
        finished();
        view.trained = result;
        const h = result.history || {};
        if (h.epoch && h.loss) view.curve = { epoch: h.epoch, loss: h.loss, validation: h.validation_loss || null, epochs: state.epochs };
        describeCurve();
        const v = result.validation_loss !== undefined ? `, validation loss ${short(result.validation_loss)}` : "";
        status(`Done: ${result.epochs_run} epochs (${result.stopped.replace("_", " ")}), loss ${short(result.loss)}${v}, ${Math.round(result.duration_ms)} ms on the server.`, "ok");
        $("train-status").dataset.state = "done";
        $("use-trained").disabled = false;
        $("download").disabled = false;
        $("save-trained").disabled = false;
        view.shown = "trained";
        app.drawAll();
        drawDecisionBoundary(result.network);
      },
      failed(p) {
        finished();
        const problem = p.error || p;
        status(`Failed: ${problem.detail || problem.title || "the job failed"}`, "bad");
        $("train-status").dataset.state = "failed";
      },
      cancelled(p) {
        finished();
        status(`Cancelled${p && p.epoch ? ` at epoch ${p.epoch}` : ""}${p && p.reason ? ` (${p.reason})` : ""}.`, "bad");
        $("train-status").dataset.state = "cancelled";
        describeCurve();
      },
      error() {
        finished();
        status("The event stream broke off; the job may still be running on the server.", "bad");
      },
    });
    function finished() {
      view.job = null;
      setTraining(false);
    }
  }

  async function cancel() {
    if (!view.job) return;
    $("cancel").disabled = true;
    status(`Cancelling job ${view.job.id}…`);
    try {
      await call("DELETE", view.job.path);
    } catch (e) {
      status(e.message, "bad");
    }
  }

  async function drawDecisionBoundary(network) {
    if (!view.data || !view.data.twoD) return;
    const rows = grid(view.data.domain, GRID);
    try {
      const answer = await call("POST", "/forward", { network, input: rows }, { note: `the decision boundary: the trained network on a ${GRID} × ${GRID} grid` });
      const values = answer.body.output.map((o) => {
        if (!Array.isArray(o)) return o;
        if (o.length === 1) return o[0];
        if (o.length === 2) return o[1];
        return o.indexOf(Math.max(...o)) / (o.length - 1);
      });
      view.boundary = { values };
      $("boundary-caption").textContent = "Decision boundary of the trained network: blue where the output is near 1, orange near 0; hollow points are held out.";
      $("boundary-canvas").setAttribute("aria-label", `Decision boundary of the trained network over ${GRID} × ${GRID} points, with the data on top`);
      $("boundary-canvas").dataset.drawn = "true";
      app.drawAll();
    } catch (e) {
      $("boundary-caption").textContent = `No decision boundary: ${e.message}`;
    }
  }

  function useTrained() {
    if (!view.trained) return;
    state.mode = "json";
    state.netText = prettyNetwork(view.trained.network);
    app.writeForm();
    app.refresh();
  }

  /** PUT /networks/{name}: the trained network as the name's next version, then served by name. */
  async function save(event) {
    event.preventDefault();
    if (!view.trained) return;
    const name = $("save-name").value.trim() || $("save-name").placeholder;
    const out = $("save-status");
    try {
      const answer = await call("PUT", `/networks/${encodeURIComponent(name)}`, view.trained.network, {
        note: `stores the trained network as the next version of "${name}"`,
      });
      const v = answer.body.version;
      out.textContent = `Saved as ${name}, version ${v}. Compute with it by name: "network": {"name": "${name}"}; or GET /networks/${name}, or the Open Inference Protocol at /v2/models/${name}.`;
      out.dataset.state = "saved";
      out.dataset.version = String(v);
    } catch (e) {
      out.textContent = `Not saved: ${e.message}`;
      out.dataset.state = "error";
    }
  }

  function download() {
    if (!view.trained) return;
    const blob = new Blob([prettyNetwork(view.trained.network) + "\n"], { type: "application/json" });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = `backprop-network-${state.data}.json`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }

  // Leaving the page cancels its job, so that it does not hold a compute thread.
  window.addEventListener("pagehide", () => {
    if (view.job) fetch(view.job.path, { method: "DELETE", keepalive: true }).catch(() => {});
  });
  $("train").addEventListener("click", train);
  $("cancel").addEventListener("click", cancel);
  $("use-trained").addEventListener("click", useTrained);
  $("download").addEventListener("click", download);
  $("save-form").addEventListener("submit", save);
  return { describeCurve };
}
