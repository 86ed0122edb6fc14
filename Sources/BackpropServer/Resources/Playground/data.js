// Data sets: the seed notebook's examples, XOR, and 2-D sets drawn with a seeded
// PRNG, so that the same URL gives the same points.

/** mulberry32: a small, fast 32-bit PRNG; the same seed gives the same numbers. */
export function prng(seed) {
  let a = (Number(seed) >>> 0) || 0x9e3779b9;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  // Box–Muller: a standard normal deviate.
  next.normal = () => {
    const u = 1 - next();
    const v = next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  return next;
}

export const SETS = {
  seed: { label: "Seed notebook: 3-2-1 network, one sample", fixed: true },
  neuron: { label: "Seed notebook: one sigmoid neuron", fixed: true },
  xor: { label: "XOR (4 points)", fixed: true },
  circles: { label: "Circles", fixed: false },
  spirals: { label: "Spirals", fixed: false },
  gaussians: { label: "Two gaussians", fixed: false },
  pasted: { label: "Pasted data", fixed: true },
};

/** The networks of the seed notebook, given explicitly (no biases, sigmoid). */
export const SEED_NETWORKS = {
  seed: { layers: [{ weights: [[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]] }, { weights: [0.1, -0.3] }] },
  neuron: { layers: [{ weights: [0.5, -0.5, 0.3, 0.1] }] },
};

const round = (x) => Math.round(x * 1000) / 1000;

function circles(rand, n, noise) {
  const inputs = [], targets = [];
  for (let i = 0; i < n; i++) {
    const inner = i % 2 === 0;
    const r = inner ? 0.5 * Math.sqrt(rand()) : 0.7 + 0.3 * rand();
    const angle = 2 * Math.PI * rand();
    inputs.push([r * Math.cos(angle) + noise * rand.normal(), r * Math.sin(angle) + noise * rand.normal()]);
    targets.push(inner ? 1 : 0);
  }
  return { inputs, targets };
}

function spirals(rand, n, noise) {
  const inputs = [], targets = [];
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    const t = Math.floor(i / 2) / Math.ceil(n / 2);
    const r = 0.05 + 0.95 * t;
    const angle = 1.75 * 2 * Math.PI * t + label * Math.PI;
    inputs.push([r * Math.sin(angle) + noise * rand.normal(), r * Math.cos(angle) + noise * rand.normal()]);
    targets.push(label);
  }
  return { inputs, targets };
}

function gaussians(rand, n, noise) {
  const inputs = [], targets = [];
  const spread = 0.15 + noise;
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    const c = label ? 0.45 : -0.45;
    inputs.push([c + spread * rand.normal(), c + spread * rand.normal()]);
    targets.push(label);
  }
  return { inputs, targets };
}

/** Pasted data: {"inputs", "targets"[, "validation"]} as JSON, or CSV rows whose last column is the target. */
export function parsePasted(text) {
  const t = (text || "").trim();
  if (!t) throw new Error("paste a data set first");
  if (t.startsWith("{")) {
    const d = JSON.parse(t);
    if (!Array.isArray(d.inputs) || !Array.isArray(d.targets)) throw new Error('the JSON needs "inputs" and "targets" arrays');
    if (d.inputs.length !== d.targets.length) throw new Error(`${d.inputs.length} inputs but ${d.targets.length} targets`);
    const inputs = d.inputs.map((x) => (Array.isArray(x) ? x : [x]));
    return { inputs, targets: d.targets, validation: d.validation };
  }
  const rows = t.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  const numbers = rows.map((l, i) => {
    const cells = l.split(/[,;\s]+/).map(Number);
    if (cells.length < 2 || cells.some((c) => !Number.isFinite(c))) throw new Error(`row ${i + 1} is not numbers`);
    return cells;
  });
  const width = numbers[0].length;
  numbers.forEach((r, i) => {
    if (r.length !== width) throw new Error(`row ${i + 1} has ${r.length} columns, row 1 has ${width}`);
  });
  return { inputs: numbers.map((r) => r.slice(0, -1)), targets: numbers.map((r) => r[r.length - 1]) };
}

/**
 * The data set of a setup: {inputs, targets, validation?, dims, twoD, domain}.
 * Throws an Error whose message says what is wrong with pasted data.
 */
export function makeData(s) {
  let d;
  if (s.data === "seed") d = { inputs: [[0.5, 0.1, -0.2]], targets: [0.6] };
  else if (s.data === "neuron") d = { inputs: [[1, 2, 3, 4]], targets: [0.5] };
  else if (s.data === "xor") d = { inputs: [[0, 0], [0, 1], [1, 0], [1, 1]], targets: [0, 1, 1, 0] };
  else if (s.data === "pasted") d = parsePasted(s.pasted);
  else {
    const rand = prng(s.dseed);
    const make = { circles, spirals, gaussians }[s.data] || circles;
    const all = make(rand, Math.max(4, Math.min(2000, s.n | 0)), Math.max(0, s.noise));
    const order = all.inputs.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    const inputs = order.map((i) => all.inputs[i].map(round));
    const targets = order.map((i) => all.targets[i]);
    const held = Math.min(inputs.length - 1, Math.round(inputs.length * Math.max(0, Math.min(90, s.val)) / 100));
    d = { inputs: inputs.slice(held), targets: targets.slice(held) };
    if (held > 0) d.validation = { inputs: inputs.slice(0, held), targets: targets.slice(0, held) };
  }
  d.dims = d.inputs[0] ? d.inputs[0].length : 0;
  d.twoD = d.dims === 2;
  if (d.twoD) {
    const points = d.inputs.concat(d.validation ? d.validation.inputs : []);
    // A square around the points, padded, with ends on a nice step (0.5 for data near 1).
    const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
    const span = Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys), 1e-9);
    const unit = Math.pow(10, Math.floor(Math.log10(span))) / 2;
    const pad = span * 0.08;
    const range = (lo, hi) => [Math.floor((lo - pad) / unit) * unit, Math.ceil((hi + pad) / unit) * unit];
    const [ax, bx] = range(Math.min(...xs), Math.max(...xs));
    const [ay, by] = range(Math.min(...ys), Math.max(...ys));
    const side = Math.max(bx - ax, by - ay);
    const centre = (a, b) => [(a + b) / 2 - side / 2, (a + b) / 2 + side / 2];
    d.domain = [...centre(ax, bx), ...centre(ay, by)].map((v) => Number(v.toPrecision(12)));
  }
  return d;
}

/** The rows of a `size` × `size` grid over the domain, row by row from the top. */
export function grid(domain, size) {
  const [x0, x1, y0, y1] = domain;
  const rows = [];
  for (let j = 0; j < size; j++) {
    const y = y1 - ((j + 0.5) / size) * (y1 - y0);
    for (let i = 0; i < size; i++) rows.push([round(x0 + ((i + 0.5) / size) * (x1 - x0)), round(y)]);
  }
  return rows;
}
