// Canvas drawings: the network (weights by sign and size), the loss curve and
// the decision boundary.
import { short } from "./format.js";

export const BLUE = [31, 111, 181];
export const ORANGE = [224, 123, 36];
const INK = "#1d2433";
const MUTED = "#5b6475";
const GRID = "#e3e6ec";
const rgb = (c, a = 1) => `rgba(${c[0]},${c[1]},${c[2]},${a})`;

/** Sizes the canvas backing store to its CSS box (times the pixel ratio). */
function fit(canvas, height) {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.max(120, canvas.clientWidth || canvas.parentElement.clientWidth || 300);
  if (height) canvas.style.height = `${height}px`;
  const h = height || canvas.clientHeight || width;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(h * ratio);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, h);
  return { ctx, width, height: h };
}

/** A weight matrix n × m, whatever shorthand the layer used. */
export function matrix(weights) {
  if (!Array.isArray(weights)) return null;
  return weights.map((row) => (Array.isArray(row) ? row : [row]));
}

/** Values per unit for one sample: a number is one unit. */
const units = (v) => (v === undefined || v === null ? null : Array.isArray(v) ? v : [v]);

/**
 * model: {sizes: [inputs, units...], activations: [...], weights: [n×m or null],
 *         values: [[per unit] per column] or null, title}
 */
export function drawNetwork(canvas, model) {
  const most = Math.max(...model.sizes);
  const { ctx, width, height } = fit(canvas, Math.max(230, Math.min(460, most * 46 + 80)));
  const left = 46, right = 46, top = 40, bottom = 30;
  const columns = model.sizes.length;
  const xOf = (c) => left + (columns === 1 ? 0 : (c * (width - left - right)) / (columns - 1));
  const radius = Math.max(6, Math.min(17, (height - top - bottom) / (most * 2.6)));
  const yOf = (c, i) => {
    const n = model.sizes[c];
    const span = height - top - bottom;
    return top + (n === 1 ? span / 2 : ((i + 0.5) * span) / n);
  };
  let maxW = 0;
  for (const w of model.weights) if (w) for (const row of w) for (const x of row) maxW = Math.max(maxW, Math.abs(x));
  ctx.lineCap = "round";
  model.weights.forEach((w, l) => {
    const n = model.sizes[l], m = model.sizes[l + 1];
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < m; j++) {
        const value = w && w[i] ? w[i][j] : undefined;
        ctx.beginPath();
        ctx.moveTo(xOf(l), yOf(l, i));
        ctx.lineTo(xOf(l + 1), yOf(l + 1, j));
        if (value === undefined) {
          ctx.setLineDash([4, 4]);
          ctx.strokeStyle = "#b8bfcc";
          ctx.lineWidth = 1;
        } else {
          const size = maxW > 0 ? Math.abs(value) / maxW : 0;
          ctx.setLineDash([]);
          ctx.strokeStyle = rgb(value >= 0 ? BLUE : ORANGE, 0.35 + 0.6 * size);
          ctx.lineWidth = 0.6 + 6 * size;
        }
        ctx.stroke();
      }
    }
  });
  ctx.setLineDash([]);
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  for (let c = 0; c < columns; c++) {
    const n = model.sizes[c];
    const values = model.values ? units(model.values[c]) : null;
    let maxV = 0;
    if (values) for (const v of values) maxV = Math.max(maxV, Math.abs(v));
    ctx.font = "600 12px system-ui, sans-serif";
    ctx.fillStyle = MUTED;
    const head = c === 0 ? `${n} input${n === 1 ? "" : "s"}` : `${model.activations[c - 1] || "sigmoid"} ×${n}`;
    ctx.fillText(head, Math.min(Math.max(xOf(c), 40), width - 40), 14);
    for (let i = 0; i < n; i++) {
      const x = xOf(c), y = yOf(c, i);
      ctx.beginPath();
      ctx.arc(x, y, radius, 0, 2 * Math.PI);
      const v = values ? values[i] : undefined;
      if (v !== undefined && maxV > 0) {
        const a = 0.15 + 0.75 * (Math.abs(v) / maxV);
        ctx.fillStyle = "#fff";
        ctx.fill();
        ctx.fillStyle = rgb(v >= 0 ? BLUE : ORANGE, a);
      } else ctx.fillStyle = "#fff";
      ctx.fill();
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = INK;
      ctx.stroke();
      if (radius >= 10) {
        ctx.font = `${Math.round(radius * 0.75)}px system-ui, sans-serif`;
        ctx.fillStyle = v !== undefined && maxV > 0 && Math.abs(v) / maxV > 0.6 ? "#fff" : INK;
        const name = c === 0 ? `x${i + 1}` : c === columns - 1 ? (n === 1 ? "ŷ" : `ŷ${i + 1}`) : `h${i + 1}`;
        ctx.fillText(name, x, y + 0.5);
      }
      if (v !== undefined) {
        ctx.font = "11px ui-monospace, monospace";
        ctx.fillStyle = INK;
        ctx.fillText(short(v), x, y + radius + 9);
      }
    }
  }
}

function ticks(lo, hi, count) {
  const step = Math.pow(10, Math.floor(Math.log10((hi - lo) / count || 1)));
  const nice = [1, 2, 5, 10].map((k) => k * step).find((s) => (hi - lo) / s <= count) || step * 10;
  const out = [];
  for (let t = Math.ceil(lo / nice) * nice; t <= hi + nice * 1e-9; t += nice) out.push(Number(t.toPrecision(12)));
  return out;
}

/** curve: {epoch: [], loss: [], validation: [] or null, epochs, log} */
export function drawCurve(canvas, curve) {
  const { ctx, width, height } = fit(canvas, 240);
  const left = 56, right = 22, top = 14, bottom = 34;
  const w = width - left - right, h = height - top - bottom;
  ctx.font = "12px system-ui, sans-serif";
  ctx.fillStyle = "#fbfcfd";
  ctx.fillRect(left, top, w, h);
  const series = [curve.loss, curve.validation || []].flat().filter((v) => Number.isFinite(v));
  if (!curve.epoch.length || !series.length) {
    ctx.fillStyle = MUTED;
    ctx.textAlign = "center";
    ctx.fillText("No training yet: press Train.", left + w / 2, top + h / 2);
    return;
  }
  const log = curve.log && series.every((v) => v > 0);
  const f = log ? Math.log10 : (v) => v;
  let lo = log ? Math.min(...series.map(f)) : 0;
  let hi = Math.max(...series.map(f));
  if (log) {
    lo = Math.floor(lo * 2) / 2;
    hi = Math.ceil(hi * 2) / 2;
  } else hi *= 1.05;
  if (hi - lo < 1e-12) hi = lo + 1;
  const xMax = Math.max(curve.epochs || 0, ...curve.epoch, 1);
  const X = (e) => left + (e / xMax) * w;
  const Y = (v) => top + h - ((f(v) - lo) / (hi - lo)) * h;
  ctx.strokeStyle = GRID;
  ctx.lineWidth = 1;
  ctx.fillStyle = MUTED;
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  const yTicks = log ? ticks(lo, hi, 5).filter((t) => Number.isInteger(t)) : ticks(lo, hi, 4);
  for (const t of yTicks) {
    const y = log ? top + h - ((t - lo) / (hi - lo)) * h : Y(t);
    ctx.beginPath();
    ctx.moveTo(left, y);
    ctx.lineTo(left + w, y);
    ctx.stroke();
    ctx.fillText(log ? `1e${t}` : short(t), left - 6, y);
  }
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const t of ticks(0, xMax, width < 420 ? 3 : 6)) {
    ctx.beginPath();
    ctx.moveTo(X(t), top);
    ctx.lineTo(X(t), top + h);
    ctx.stroke();
    ctx.fillText(String(t), X(t), top + h + 5);
  }
  ctx.fillText("epoch", left + w / 2, top + h + 19);
  const line = (values, color, dash) => {
    ctx.beginPath();
    let started = false;
    values.forEach((v, i) => {
      if (!Number.isFinite(v) || (log && v <= 0)) return;
      const x = X(curve.epoch[i]), y = Y(v);
      if (started) ctx.lineTo(x, y);
      else ctx.moveTo(x, y);
      started = true;
    });
    ctx.setLineDash(dash);
    ctx.strokeStyle = color;
    ctx.lineWidth = 2;
    ctx.stroke();
    ctx.setLineDash([]);
  };
  if (curve.validation) line(curve.validation, rgb(ORANGE), [6, 4]);
  line(curve.loss, rgb(BLUE), []);
  ctx.textAlign = "left";
  ctx.textBaseline = "middle";
  const legend = [["loss", rgb(BLUE), []]];
  if (curve.validation) legend.push(["validation loss", rgb(ORANGE), [6, 4]]);
  let lx = left + w - (curve.validation ? 190 : 70);
  for (const [label, color, dash] of legend) {
    ctx.strokeStyle = color;
    ctx.setLineDash(dash);
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(lx, top + 12);
    ctx.lineTo(lx + 18, top + 12);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = INK;
    ctx.fillText(label, lx + 23, top + 12);
    lx += 23 + ctx.measureText(label).width + 16;
  }
}

/** A value of the output in [lo, hi] → orange … white … blue. */
export function heatColor(v, lo = 0, hi = 1) {
  const t = Math.max(0, Math.min(1, (v - lo) / (hi - lo || 1)));
  const white = [246, 247, 249];
  const [from, to, s] = t < 0.5 ? [ORANGE, white, t * 2] : [white, BLUE, (t - 0.5) * 2];
  const mix = from.map((c, i) => c + (to[i] - c) * s);
  return mix.map((c, i) => Math.round(white[i] + (c - white[i]) * 0.75));
}

/** map: {size, values (size² numbers, row by row from the top) or null, domain, data, range: [lo, hi]} */
export function drawBoundary(canvas, map) {
  const left = 34, bottom = 24, top = 8, right = 18;
  const side = Math.max(100, (canvas.clientWidth || canvas.parentElement.clientWidth || 300) - left - right);
  const { ctx } = fit(canvas, side + top + bottom);
  const [x0, x1, y0, y1] = map.domain;
  const X = (x) => left + ((x - x0) / (x1 - x0)) * side;
  const Y = (y) => top + side - ((y - y0) / (y1 - y0)) * side;
  const [lo, hi] = map.range;
  if (map.values) {
    const off = document.createElement("canvas");
    off.width = off.height = map.size;
    const octx = off.getContext("2d");
    const image = octx.createImageData(map.size, map.size);
    map.values.forEach((v, k) => {
      const [r, g, b] = heatColor(v, lo, hi);
      image.data.set([r, g, b, 255], k * 4);
    });
    octx.putImageData(image, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(off, left, top, side, side);
  } else {
    ctx.fillStyle = "#f3f4f7";
    ctx.fillRect(left, top, side, side);
  }
  ctx.strokeStyle = "#c9ced8";
  ctx.strokeRect(left, top, side, side);
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillStyle = MUTED;
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const t of ticks(x0, x1, 4)) ctx.fillText(short(t), X(t), top + side + 5);
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const t of ticks(y0, y1, 4)) ctx.fillText(short(t), left - 5, Y(t));
  const count = map.data.inputs.length + (map.data.validation ? map.data.validation.inputs.length : 0);
  const radius = count <= 20 ? 6 : side < 260 ? 3 : 4;
  const point = (p, target, hollow) => {
    const v = Array.isArray(target) ? target[target.length === 2 ? 1 : 0] : target;
    const color = (v - lo) / (hi - lo || 1) >= 0.5 ? BLUE : ORANGE;
    ctx.beginPath();
    ctx.arc(X(p[0]), Y(p[1]), radius, 0, 2 * Math.PI);
    if (hollow) {
      ctx.fillStyle = "#fff";
      ctx.fill();
      ctx.lineWidth = 2;
      ctx.strokeStyle = rgb(color);
    } else {
      ctx.fillStyle = rgb(color);
      ctx.fill();
      ctx.lineWidth = 1;
      ctx.strokeStyle = "#fff";
    }
    ctx.stroke();
  };
  map.data.inputs.forEach((p, i) => point(p, map.data.targets[i], false));
  if (map.data.validation) map.data.validation.inputs.forEach((p, i) => point(p, map.data.validation.targets[i], true));
}
