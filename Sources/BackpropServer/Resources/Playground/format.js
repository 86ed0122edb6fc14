// Numbers as the seed notebook prints them: Python's repr for a scalar, numpy's
// print for an array (8 digits, scientific when the values span too much).

/** Python's repr of a float: the shortest round-trip digits, 1e-05 not 1e-5. */
export function pyRepr(x) {
  if (typeof x !== "number") return String(x);
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return x.toFixed(1);
  const a = Math.abs(x);
  if (a >= 1e-4 && a < 1e16) return String(x);
  return pyExp(x.toExponential());
}

/** "1.5e-5" → "1.5e-05", as Python and numpy write exponents. */
function pyExp(s) {
  const [m, e] = s.split("e");
  const sign = e[0] === "-" ? "-" : "+";
  const digits = e.replace(/^[+-]/, "");
  return `${m}e${sign}${digits.padStart(2, "0")}`;
}

/** At most `p` fractional digits, fewer where the shortest repr needs fewer. */
function positional(x, p) {
  let s = String(x);
  if (/e/.test(s) || (s.split(".")[1] || "").length > p) s = x.toFixed(p).replace(/0+$/, "");
  if (!s.includes(".")) s += ".";
  return s;
}

function scientific(x, p) {
  let s = x.toExponential();
  const [m] = s.split("e");
  if ((m.split(".")[1] || "").length > p) s = x.toExponential(p).replace(/0+e/, "e");
  let [mant, exp] = s.split("e");
  if (!mant.includes(".")) mant += ".";
  return [mant, exp];
}

function flatten(a) {
  return Array.isArray(a) ? a.flatMap(flatten) : [a];
}

/** numpy's array2string with the default print options (precision 8, width 75). */
export function npArray(a, precision = 8) {
  const values = flatten(a);
  const finite = values.filter((v) => Number.isFinite(v) && v !== 0).map(Math.abs);
  const max = finite.length ? Math.max(...finite) : 0;
  const min = finite.length ? Math.min(...finite) : 0;
  const exp = finite.length > 0 && (max >= 1e8 || min < 1e-4 || max / min > 1e3);
  let format;
  if (exp) {
    const parts = values.map((v) => scientific(v, precision));
    const ints = parts.map(([m]) => m.split(".")[0].length);
    const fracs = parts.map(([m]) => m.split(".")[1].length);
    const padLeft = Math.max(...ints);
    const frac = Math.max(...fracs);
    const expDigits = Math.max(2, ...parts.map(([, e]) => e.replace(/^[+-]/, "").length));
    format = (v) => {
      if (!Number.isFinite(v)) return pyRepr(v).padStart(padLeft + frac + expDigits + 3);
      const [m, e] = scientific(v, precision);
      const [i, f] = m.split(".");
      const sign = e[0] === "-" ? "-" : "+";
      const digits = e.replace(/^[+-]/, "").padStart(expDigits, "0");
      return `${i.padStart(padLeft)}.${f.padEnd(frac, "0")}e${sign}${digits}`;
    };
  } else {
    const parts = values.map((v) => positional(v, precision));
    const padLeft = Math.max(...parts.map((s) => s.split(".")[0].length));
    const padRight = Math.max(...parts.map((s) => s.split(".")[1].length));
    format = (v) => {
      if (!Number.isFinite(v)) return pyRepr(v).padStart(padLeft + padRight + 1);
      const [i, f] = positional(v, precision).split(".");
      return `${i.padStart(padLeft)}.${f.padEnd(padRight)}`;
    };
  }
  const render = (x, depth) => {
    if (!Array.isArray(x)) return format(x);
    if (x.length && Array.isArray(x[0])) {
      const rows = x.map((r) => render(r, depth + 1));
      return "[" + rows.join("\n" + " ".repeat(depth + 1)) + "]";
    }
    const indent = " ".repeat(depth + 1);
    const lines = [];
    let line = "";
    for (const v of x.map(format)) {
      if (line && indent.length + line.length + 1 + v.length + 1 > 75) {
        lines.push(line.trimEnd());
        line = v;
      } else line = line ? `${line} ${v}` : v;
    }
    lines.push(line);
    return "[" + lines.join("\n" + indent) + "]";
  };
  return render(a, 0);
}

/** Python's print of a list of floats: every digit. */
export function pyList(a) {
  return Array.isArray(a) ? "[" + a.map(pyList).join(", ") + "]" : pyRepr(a);
}

/** A value as the notebook prints it, or with every digit when `full`. */
export function show(v, full = false) {
  if (v === undefined || v === null) return "—";
  if (!Array.isArray(v)) return pyRepr(v);
  return full ? pyList(v) : npArray(v);
}

/** A short figure for labels and captions: 4 significant digits. */
export function short(x) {
  if (typeof x !== "number" || !Number.isFinite(x)) return "—";
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return pyExp(x.toExponential(2));
  return String(Number(x.toPrecision(4)));
}
