// The Backprop playground: set up data and a network, step through backprop,
// train as a job and watch it. The URL's #fragment keeps the whole setup.
import { attachLog, call, ProblemError } from "./api.js";
import { setupTraining } from "./train.js";
import { SETS, SEED_NETWORKS, makeData } from "./data.js";
import { drawNetwork, drawCurve, drawBoundary } from "./draw.js";
import { short, npArray, pyRepr } from "./format.js";
import { diagramModel, renderStep, applyDeltas, prettyNetwork, isExplicit, networkInputs } from "./step.js";

const $ = (id) => document.getElementById(id);
const ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "linear", "softmax"];
const GRID = 40;

// Form fields kept in the URL: name → [kind, default].
const FIELDS = {
  data: ["str", "seed"], n: ["int", 200], noise: ["num", 0.05], dseed: ["int", 1], val: ["num", 20],
  inputs: ["int", 2], seed: ["int", 7], init: ["str", "auto"], bias: ["bool", true],
  lr: ["num", 0.5], loss: ["str", "squared_error"], sample: ["int", 1], batch: ["bool", false],
  epochs: ["int", 1000], bs: ["opt", ""], opt: ["str", "sgd"], mom: ["num", 0.9], l2: ["num", 0],
  pat: ["opt", ""], ts: ["int", 7], logy: ["bool", true], full: ["bool", false],
};
// What choosing a data set suggests (only when a person picks it, never from a URL).
const SUGGEST = {
  seed: { lr: 0.5, opt: "sgd", epochs: 1000, bs: "", loss: "squared_error" },
  neuron: { lr: 0.5, opt: "sgd", epochs: 1000, bs: "", loss: "squared_error" },
  xor: { layers: [[4, "sigmoid"], [1, "sigmoid"]], lr: 2, opt: "momentum", mom: 0.9, epochs: 2000, bs: "", loss: "squared_error" },
  circles: { layers: [[4, "tanh"], [1, "sigmoid"]], lr: 0.03, opt: "adam", epochs: 400, bs: 16, loss: "cross_entropy" },
  gaussians: { layers: [[2, "tanh"], [1, "sigmoid"]], lr: 0.03, opt: "adam", epochs: 200, bs: 16, loss: "cross_entropy" },
  spirals: { layers: [[8, "tanh"], [8, "tanh"], [1, "sigmoid"]], lr: 0.02, opt: "adam", epochs: 1500, bs: 16, loss: "cross_entropy" },
  pasted: {},
};

const state = {
  ...Object.fromEntries(Object.entries(FIELDS).map(([k, [, d]]) => [k, d])),
  pasted: "",
  layers: [[4, "sigmoid"], [1, "sigmoid"]],
  mode: "json", // "build": the builder makes the network; "json": the JSON text is the network
  netText: prettyNetwork(SEED_NETWORKS.seed),
};

// What the page shows, shared with train.js.
const view = {
  data: null, // the data set of the setup, or null with dataError
  dataError: "",
  lastStep: null, // {network, input, target, batch, forward, gradient}
  applied: 0, // weight deltas applied since the network was set
  trained: null, // the last /train result
  job: null, // {id, path, close}
  curve: { epoch: [], loss: [], validation: null, epochs: 0 },
  boundary: null, // {values}
  shown: "current", // which network the diagram draws: "current" or "trained"
};

// ---------- the URL ----------

const b64 = (s) => btoa(unescape(encodeURIComponent(s))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const unb64 = (s) => decodeURIComponent(escape(atob(s.replace(/-/g, "+").replace(/_/g, "/"))));

function toHash() {
  const p = new URLSearchParams();
  for (const [k, [kind]] of Object.entries(FIELDS)) p.set(k, kind === "bool" ? (state[k] ? "1" : "0") : String(state[k]));
  if (state.data === "pasted") p.set("pasted", b64(state.pasted));
  if (state.mode === "json") p.set("net", b64(state.netText));
  else p.set("layers", state.layers.map(([u, a]) => `${u}-${a}`).join("."));
  return p.toString();
}

function fromHash(hash) {
  const p = new URLSearchParams(hash.replace(/^#/, ""));
  if (![...p.keys()].length) return false;
  for (const [k, [kind, d]] of Object.entries(FIELDS)) {
    if (!p.has(k)) continue;
    const v = p.get(k);
    if (kind === "bool") state[k] = v === "1" || v === "true";
    else if (kind === "int" || kind === "num") state[k] = Number.isFinite(Number(v)) && v !== "" ? Number(v) : d;
    else state[k] = v;
  }
  if (!SETS[state.data]) state.data = "seed";
  try {
    state.pasted = p.has("pasted") ? unb64(p.get("pasted")) : state.pasted;
    if (p.has("net")) {
      state.mode = "json";
      state.netText = unb64(p.get("net"));
    } else if (p.has("layers")) {
      state.mode = "build";
      state.layers = p.get("layers").split(".").filter(Boolean).map((t) => {
        const [u, a] = t.split("-");
        return [Math.max(1, Number(u) || 1), ACTIVATIONS.includes(a) ? a : "sigmoid"];
      });
    }
  } catch {
    /* a damaged link keeps the defaults */
  }
  return true;
}

function saveHash() {
  history.replaceState(null, "", `${location.pathname}${location.search}#${toHash()}`);
}

// ---------- the form ----------

function readField(k) {
  const [kind] = FIELDS[k];
  const input = $(k);
  if (kind === "bool") return input.checked;
  if (kind === "str") return input.value;
  if (kind === "opt") return input.value === "" ? "" : Number(input.value);
  const v = input.value === "" ? NaN : Number(input.value);
  return Number.isFinite(v) ? (kind === "int" ? Math.round(v) : v) : state[k];
}

function writeForm() {
  for (const [k, [kind]] of Object.entries(FIELDS)) {
    if (kind === "bool") $(k).checked = !!state[k];
    else $(k).value = String(state[k]);
  }
  $("pasted").value = state.pasted;
  renderLayers();
  $("net-json").value = state.mode === "json" ? state.netText : prettyNetwork(builderNetwork());
}

function renderLayers() {
  const list = $("layers");
  list.replaceChildren();
  state.layers.forEach(([units, act], i) => {
    const li = document.createElement("li");
    li.className = "layer-row";
    const last = i === state.layers.length - 1;
    li.innerHTML = `<span class="layer-name">${last ? "Output" : `Hidden ${i + 1}`}</span>
      <label><span class="visually-hidden">Layer ${i + 1} </span>units <input type="number" min="1" max="512" step="1" inputmode="numeric" data-i="${i}" data-k="units"></label>
      <label><span class="visually-hidden">Layer ${i + 1} </span>activation <select data-i="${i}" data-k="act">${ACTIVATIONS.map((a) => `<option value="${a}">${a}</option>`).join("")}</select></label>
      <button type="button" class="icon" data-i="${i}" data-k="remove" aria-label="Remove layer ${i + 1}" title="Remove layer ${i + 1}">×</button>`;
    li.querySelector("input").value = units;
    li.querySelector("select").value = act;
    li.querySelector("button").disabled = state.layers.length === 1;
    list.append(li);
  });
}

function builderNetwork() {
  const net = {
    inputs: state.inputs,
    layers: state.layers.map(([units, activation]) => (state.bias ? { units, activation } : { units, activation, bias: false })),
    init: state.init,
    seed: state.seed,
  };
  return net;
}

/** The current network as the API takes it; throws an Error for JSON that does not parse. */
function networkSpec() {
  if (state.mode === "build") return builderNetwork();
  try {
    return JSON.parse(state.netText);
  } catch (e) {
    throw new Error(`the network JSON does not parse: ${e.message}`);
  }
}

function refreshData() {
  try {
    view.data = makeData(state);
    view.dataError = "";
  } catch (e) {
    view.data = null;
    view.dataError = e.message;
  }
  view.boundary = null;
}

/** Everything that depends on the setup, redrawn. */
function refresh({ keepStep = false } = {}) {
  const generated = !SETS[state.data].fixed;
  $("generated-fields").hidden = !generated;
  $("pasted-fields").hidden = state.data !== "pasted";
  const summary = $("data-summary");
  if (view.data) {
    const v = view.data.validation ? `, ${view.data.validation.inputs.length} held out for validation` : "";
    summary.textContent = `${view.data.inputs.length} sample${view.data.inputs.length === 1 ? "" : "s"} of ${view.data.dims} input${view.data.dims === 1 ? "" : "s"}${v}.`;
    summary.classList.remove("bad");
  } else {
    summary.textContent = view.dataError;
    summary.classList.add("bad");
  }
  // Given JSON replaces the builder: it is hidden, and the JSON shown, until asked back.
  const builder = $("builder");
  if (builder.disabled !== (state.mode !== "build") && state.mode === "json") $("json-details").open = true;
  builder.disabled = builder.hidden = state.mode !== "build";
  $("to-builder").hidden = state.mode === "build";
  const status = $("net-json-status");
  status.classList.remove("bad");
  if (state.mode === "build") status.textContent = "The builder makes this network; edit the JSON to give weights yourself.";
  else {
    try {
      const net = networkSpec();
      status.textContent = isExplicit(net) ? "The network JSON, with its weights, is the network (the builder is not used)." : "The network JSON is the network (the builder is not used).";
    } catch (e) {
      status.textContent = e.message;
      status.classList.add("bad");
    }
  }
  const count = view.data ? view.data.inputs.length : 0;
  $("sample").max = String(Math.max(1, count));
  $("sample").disabled = state.batch;
  if (view.data && count) {
    const i = Math.min(Math.max(1, state.sample), count) - 1;
    $("sample-text").textContent = state.batch
      ? `all ${count} samples: the gradient is the mean over them`
      : `sample ${i + 1} of ${count}: x = ${npArray(view.data.inputs[i])}, y = ${Array.isArray(view.data.targets[i]) ? npArray(view.data.targets[i]) : pyRepr(view.data.targets[i])}`;
  } else $("sample-text").textContent = "";
  $("mom").disabled = !(state.opt === "momentum" || state.opt === "nesterov");
  if (!keepStep) {
    view.lastStep = null;
    view.applied = 0;
    $("apply").disabled = true;
    $("step-output").innerHTML = '<p class="note">Press <strong>Step</strong> to run <code>POST /forward</code> and <code>POST /gradient</code> on the sample.</p>';
  }
  view.shown = "current";
  drawAll();
  saveHash();
}

function drawAll() {
  let net = null;
  try {
    net = view.shown === "trained" && view.trained ? view.trained.network : view.lastStep ? view.lastStep.network : networkSpec();
  } catch {
    net = null;
  }
  const canvas = $("net-canvas");
  if (net && Array.isArray(net.layers) && net.layers.length) {
    const model = diagramModel(net, view.shown === "current" ? view.lastStep : null);
    drawNetwork(canvas, model);
    canvas.setAttribute("aria-label", `Network diagram: ${model.sizes.join("-")} network, ${model.activations.join(", ")}${model.weights.every(Boolean) ? "" : "; weights not generated yet"}`);
    let caption = view.shown === "trained" ? `Trained network (${view.trained.epochs_run} epochs, loss ${short(view.trained.loss)})` : "Current network";
    if (view.shown === "current" && view.applied) caption += ` after ${view.applied} applied step${view.applied === 1 ? "" : "s"}`;
    if (!model.weights.every(Boolean)) caption += ": weights appear after a step";
    $("net-caption").textContent = caption;
  }
  drawCurve($("curve-canvas"), { ...view.curve, log: state.logy });
  if (view.data && view.data.twoD) {
    drawBoundary($("boundary-canvas"), { size: GRID, values: view.boundary && view.boundary.values, domain: view.data.domain, data: view.data, range: targetRange() });
    $("boundary-canvas").parentElement.hidden = false;
  } else $("boundary-canvas").parentElement.hidden = true;
}

function targetRange() {
  const values = view.data.targets.flat().filter((v) => typeof v === "number");
  const lo = Math.min(0, ...values), hi = Math.max(1, ...values);
  return [lo, hi];
}

// ---------- setup events ----------

function onSetupChange(e) {
  const k = e.target.name || e.target.id;
  if (e.target.dataset.k) return onLayerChange(e);
  if (k === "net-json") {
    state.mode = "json";
    state.netText = e.target.value;
    return refresh();
  }
  if (k === "pasted") state.pasted = e.target.value;
  else if (FIELDS[k]) state[k] = readField(k);
  else return;
  if (k === "data") chooseData();
  if (["data", "n", "noise", "dseed", "val", "pasted"].includes(k)) {
    refreshData();
    if (state.mode === "build" && view.data && view.data.dims !== state.inputs) {
      state.inputs = view.data.dims;
      $("inputs").value = String(state.inputs);
    }
  }
  if (state.mode === "build") $("net-json").value = prettyNetwork(builderNetwork());
  if (["full"].includes(k) && view.lastStep) {
    renderStep($("step-output"), view.lastStep, state.full);
    return saveHash();
  }
  if (["logy"].includes(k)) {
    drawAll();
    return saveHash();
  }
  const stepInputs = ["epochs", "bs", "opt", "mom", "l2", "pat", "ts"];
  refresh({ keepStep: stepInputs.includes(k) });
}

/** A person picked a data set: suggest a network and settings that suit it. */
function chooseData() {
  const s = SUGGEST[state.data] || {};
  for (const k of ["lr", "opt", "mom", "epochs", "bs", "loss"]) if (k in s) state[k] = s[k];
  state.sample = 1;
  if (SEED_NETWORKS[state.data]) {
    state.mode = "json";
    state.netText = prettyNetwork(SEED_NETWORKS[state.data]);
  } else if (state.data !== "pasted") {
    // Pasted data keeps the network as it is: it may be the network the data is for.
    refreshData();
    if (s.layers) state.layers = s.layers.map((l) => [...l]);
    state.mode = "build";
    if (view.data) state.inputs = view.data.dims;
  }
  writeForm();
}

function onLayerChange(e) {
  const i = Number(e.target.dataset.i), k = e.target.dataset.k;
  if (k === "units") {
    const v = Math.round(Number(e.target.value));
    if (!(v >= 1)) return;
    state.layers[i][0] = Math.min(512, v);
  } else if (k === "act") state.layers[i][1] = e.target.value;
  $("net-json").value = prettyNetwork(builderNetwork());
  refresh();
}

// ---------- step ----------

function showProblem(where, error) {
  const p = $(where);
  p.hidden = false;
  p.textContent = error instanceof ProblemError || error instanceof Error ? error.message : String(error);
}

async function step() {
  $("step-problem").hidden = true;
  const button = $("step");
  try {
    if (!view.data) throw new Error(view.dataError || "no data");
    const network = networkSpec();
    const i = Math.min(Math.max(1, state.sample), view.data.inputs.length) - 1;
    const input = state.batch ? view.data.inputs : view.data.inputs[i];
    const target = state.batch ? view.data.targets : view.data.targets[i];
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    const forward = await call("POST", "/forward", { network, input, trace: true });
    const explicit = forward.body.network || network;
    const gradient = await call("POST", "/gradient", { network, input, target, learning_rate: state.lr, loss: state.loss });
    view.lastStep = { network: explicit, input, target, batch: state.batch, forward: forward.body, gradient: gradient.body };
    renderStep($("step-output"), view.lastStep, state.full);
    const out = $("step-output");
    out.dataset.steps = String(Number(out.dataset.steps || 0) + 1);
    $("apply").disabled = false;
    view.shown = "current";
    drawAll();
  } catch (e) {
    showProblem("step-problem", e);
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

async function apply() {
  if (!view.lastStep || !view.lastStep.gradient) return;
  const next = applyDeltas(view.lastStep.network, view.lastStep.gradient);
  state.mode = "json";
  state.netText = prettyNetwork(next);
  $("net-json").value = state.netText;
  const count = view.applied + 1;
  refresh();
  view.applied = count;
  await step();
}

function resetNetwork() {
  if (SEED_NETWORKS[state.data]) {
    state.mode = "json";
    state.netText = prettyNetwork(SEED_NETWORKS[state.data]);
  } else {
    state.mode = "build";
    if (view.data) state.inputs = view.data.dims;
  }
  writeForm();
  refresh();
}

async function share() {
  saveHash();
  const b = $("share");
  try {
    await navigator.clipboard.writeText(location.href);
    b.textContent = "Link copied";
  } catch {
    b.textContent = "Copy the address bar";
  }
  setTimeout(() => (b.textContent = "Copy link to this setup"), 2000);
}

// ---------- start ----------

function start() {
  attachLog($("log"));
  setupTraining({ state, view, networkSpec, drawAll, writeForm, refresh });
  $("data").innerHTML = Object.entries(SETS).map(([k, s]) => `<option value="${k}">${s.label}</option>`).join("");
  const fromLink = fromHash(location.hash);
  refreshData();
  if (!fromLink) state.inputs = view.data ? view.data.dims : state.inputs;
  writeForm();
  // Typing fires "input"; selects and checkboxes are read on "change" (once).
  const picked = (e) => e.target.tagName === "SELECT" || e.target.type === "checkbox";
  const onInput = (e) => (picked(e) ? null : onSetupChange(e));
  const onChange = (e) => (picked(e) ? onSetupChange(e) : null);
  for (const target of [$("setup"), $("train-form"), $("sample"), $("batch"), $("full"), $("logy")]) {
    target.addEventListener("input", onInput);
    target.addEventListener("change", onChange);
  }
  for (const form of [$("setup"), $("train-form")]) form.addEventListener("submit", (e) => e.preventDefault());
  $("add-layer").addEventListener("click", () => {
    state.layers.splice(state.layers.length - 1, 0, [4, "tanh"]);
    renderLayers();
    $("net-json").value = prettyNetwork(builderNetwork());
    refresh();
    const inputs = $("layers").querySelectorAll("input");
    inputs[Math.max(0, inputs.length - 2)].focus();
  });
  $("layers").addEventListener("click", (e) => {
    if (e.target.dataset.k !== "remove" || state.layers.length < 2) return;
    state.layers.splice(Number(e.target.dataset.i), 1);
    renderLayers();
    $("net-json").value = prettyNetwork(builderNetwork());
    refresh();
    $("add-layer").focus();
  });
  $("to-builder").addEventListener("click", () => {
    state.mode = "build";
    if (view.data) state.inputs = view.data.dims;
    writeForm();
    refresh();
    $("inputs").focus();
  });
  $("step").addEventListener("click", step);
  $("apply").addEventListener("click", apply);
  $("reset-net").addEventListener("click", resetNetwork);
  $("share").addEventListener("click", share);
  window.addEventListener("hashchange", () => {
    if (location.hash.slice(1) === toHash()) return;
    fromHash(location.hash);
    refreshData();
    writeForm();
    refresh();
  });
  let width = window.innerWidth;
  window.addEventListener("resize", () => {
    if (window.innerWidth === width) return;
    width = window.innerWidth;
    drawAll();
  });
  refresh();
  document.body.dataset.ready = "true";
}

start();
