// One step of backprop on the page: each layer's weighted input, output, error
// term and weight delta, printed as the seed notebook prints them.
import { show } from "./format.js";
import { matrix } from "./draw.js";

/** Units of a layer (given or generated). */
export function layerUnits(layer) {
  if (Array.isArray(layer.weights)) {
    const w = matrix(layer.weights);
    return w.length && w[0].length ? w[0].length : 1;
  }
  return layer.units | 0;
}

/** Inputs of a network (given or generated). */
export function networkInputs(net) {
  const first = net.layers && net.layers[0];
  if (first && Array.isArray(first.weights)) return first.weights.length;
  return net.inputs | 0;
}

export function isExplicit(net) {
  return !!net && Array.isArray(net.layers) && net.layers.length > 0 && net.layers.every((l) => Array.isArray(l.weights));
}

/** What the diagram draws: sizes, activations, weights, and the values of one sample. */
export function diagramModel(net, step) {
  const layers = Array.isArray(net.layers) ? net.layers : [];
  const model = {
    sizes: [networkInputs(net), ...layers.map(layerUnits)],
    activations: layers.map((l) => l.activation || "sigmoid"),
    weights: layers.map((l) => matrix(l.weights)),
    values: null,
  };
  if (step && step.forward && step.forward.layers && !step.batch) {
    model.values = [step.input, ...step.forward.layers.map((l) => l.output)];
  }
  return model;
}

/** The seed notebook's names for a layer's values, where it has them. */
function notebookNames(index, count) {
  if (count === 1) return { h: "h", out: "nn_output", delta: "error_term", dw: "del_w" };
  if (index === count - 1) return { h: "output_layer_in", out: "output", delta: "output_error_term", dw: "delta_w_h_o" };
  if (count === 2) return { h: "hidden_layer_input", out: "hidden_layer_output", delta: "hidden_error_term", dw: "delta_w_i_h" };
  return {};
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("data-")) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

/** A term, its notebook alias, and its value as numpy prints it. */
function entry(label, alias, field, value, full) {
  const dt = el("dt", {}, label);
  if (alias) dt.append(" ", el("code", { class: "alias", title: "the seed notebook's name" }, alias));
  const pre = el("pre", { class: "value", "data-field": field, "data-json": JSON.stringify(value) }, show(value, full));
  return el("div", { class: "entry" }, dt, el("dd", {}, pre));
}

/**
 * step: {network, input, target, batch, forward, gradient}; renders into container.
 */
export function renderStep(container, step, full) {
  container.replaceChildren();
  const g = step.gradient;
  const f = step.forward;
  const top = el("dl", { class: "summary" });
  top.append(
    entry("input x", "x", "input", step.input, full),
    entry("target y", "target", "target", step.target, full),
    entry("output ŷ", "nn_output", "output", g ? g.output : f.output, full),
  );
  if (g) {
    top.append(entry("error y − ŷ", "error", "error", g.error, full), entry("loss", null, "loss", g.loss, full));
  }
  container.append(top);
  const layers = step.network.layers || [];
  layers.forEach((layer, i) => {
    const names = notebookNames(i, layers.length);
    const inputs = i === 0 ? networkInputs(step.network) : layerUnits(layers[i - 1]);
    const title = `Layer ${i + 1} · ${inputs} → ${layerUnits(layer)} · ${layer.activation || "sigmoid"}`;
    const dl = el("dl", { class: "terms" });
    const fl = f && f.layers ? f.layers[i] : null;
    const gl = g && g.layers ? g.layers[i] : null;
    if (Array.isArray(layer.weights)) dl.append(entry("weights W", null, `layers.${i}.weights`, layer.weights, full));
    if (layer.biases !== undefined && layer.biases !== null) dl.append(entry("biases b", null, `layers.${i}.biases`, layer.biases, full));
    if (fl) {
      dl.append(
        entry("weighted input h = x·W + b", names.h, `layers.${i}.weighted_input`, fl.weighted_input, full),
        entry("output f(h)", names.out, `layers.${i}.output`, fl.output, full),
      );
    }
    if (gl) {
      dl.append(
        entry("error term δ", names.delta, `layers.${i}.error_term`, gl.error_term, full),
        entry("weight delta Δw = −η ∂E/∂W", names.dw, `layers.${i}.weight_delta`, gl.weight_delta, full),
      );
      if (gl.bias_delta !== undefined) dl.append(entry("bias delta Δb", null, `layers.${i}.bias_delta`, gl.bias_delta, full));
    }
    container.append(el("section", { class: "layer-card", "aria-label": title }, el("h4", {}, title), dl));
  });
}

/** W + Δw and b + Δb for every layer: the network after the step. */
export function applyDeltas(network, gradient) {
  const add = (a, b) => (Array.isArray(a) ? a.map((x, i) => add(x, b[i])) : a + b);
  return {
    ...network,
    layers: network.layers.map((layer, i) => {
      const g = gradient.layers[i];
      const next = { ...layer, weights: add(layer.weights, g.weight_delta) };
      if (layer.biases !== undefined && layer.biases !== null && g.bias_delta !== undefined) next.biases = add(layer.biases, g.bias_delta);
      return next;
    }),
  };
}

/** A network as readable JSON: one line per layer. */
export function prettyNetwork(net) {
  const lines = Object.entries(net).map(([k, v]) =>
    k === "layers" && Array.isArray(v)
      ? `  "layers": [\n${v.map((l) => "    " + JSON.stringify(l)).join(",\n")}\n  ]`
      : `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`,
  );
  return "{\n" + lines.join(",\n") + "\n}";
}
