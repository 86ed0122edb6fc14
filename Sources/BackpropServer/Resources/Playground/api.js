// Every call the page makes goes through here, and is logged as the curl command
// that does the same, so that the page teaches the API.

const ORIGIN = window.location.origin;
const MAX_SHOWN = 1200; // characters of a body shown in the log; Copy copies all
const MAX_ENTRIES = 25;

let logList = null;
let counter = 0;

export function attachLog(list) {
  logList = list;
}

/** A shell word in single quotes. */
function quote(s) {
  return "'" + String(s).replace(/'/g, "'\\''") + "'";
}

export function curlFor(method, path, body, { stream = false, headers = false } = {}) {
  const parts = ["curl", stream ? "-sN" : headers ? "-si" : "-s"];
  if (method !== "GET" && method !== "POST") parts.push("-X", method);
  parts.push(quote(ORIGIN + path));
  if (body !== undefined) parts.push("-d", quote(JSON.stringify(body)));
  return parts.join(" ");
}

function clip(text) {
  return text.length > MAX_SHOWN
    ? `${text.slice(0, MAX_SHOWN)} … (${(text.length - MAX_SHOWN).toLocaleString("en")} more characters: Copy copies them all)`
    : text;
}

/** Adds an entry to the log; returns a function that records the answer. */
export function logCall(method, path, curl, note) {
  if (!logList) return () => {};
  counter += 1;
  const li = document.createElement("li");
  li.className = "call";
  li.dataset.path = path;
  const head = document.createElement("div");
  head.className = "call-head";
  const title = document.createElement("span");
  title.className = "call-title";
  title.innerHTML = `<span class="verb">${method}</span> <code></code>`;
  title.querySelector("code").textContent = path;
  const status = document.createElement("span");
  status.className = "call-status pending";
  status.textContent = "…";
  const copy = document.createElement("button");
  copy.type = "button";
  copy.className = "small";
  copy.textContent = "Copy";
  copy.setAttribute("aria-label", `Copy the curl command for ${method} ${path}`);
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(curl);
      copy.textContent = "Copied";
    } catch {
      const range = document.createRange();
      range.selectNodeContents(pre);
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      copy.textContent = "Selected";
    }
    setTimeout(() => (copy.textContent = "Copy"), 1500);
  });
  head.append(title, status, copy);
  const pre = document.createElement("pre");
  pre.className = "curl";
  pre.tabIndex = 0;
  pre.setAttribute("aria-label", `curl command ${counter}`);
  pre.textContent = clip(curl);
  li.append(head);
  if (note) {
    const p = document.createElement("p");
    p.className = "call-note";
    p.textContent = note;
    li.append(p);
  }
  li.append(pre);
  logList.prepend(li);
  while (logList.children.length > MAX_ENTRIES) logList.lastElementChild.remove();
  return (code, ms, responseText) => {
    status.classList.remove("pending");
    status.classList.add(code >= 200 && code < 300 ? "ok" : "bad");
    status.textContent = ms === undefined ? String(code) : `${code} · ${Math.round(ms)} ms`;
    if (responseText !== undefined) {
      const details = document.createElement("details");
      const summary = document.createElement("summary");
      summary.textContent = "Response";
      const body = document.createElement("pre");
      body.className = "response";
      body.textContent = clip(responseText);
      details.append(summary, body);
      li.append(details);
    }
  };
}

/** An answer that is not 2xx: the problem+json of the service. */
export class ProblemError extends Error {
  constructor(status, problem) {
    const p = problem || {};
    const where = p.pointer ? ` (at ${p.pointer})` : p.line ? ` (line ${p.line}, column ${p.column})` : "";
    super(`${p.title || "Error"}${status ? ` (${status})` : ""}${p.detail ? ": " + p.detail : ""}${where}`);
    this.status = status;
    this.problem = problem || {};
  }
}

/** Calls the API; resolves to {status, headers, body} or rejects with a ProblemError. */
export async function call(method, path, body, options = {}) {
  const done = logCall(method, path, curlFor(method, path, body, options), options.note);
  const started = performance.now();
  let response, text;
  try {
    response = await fetch(path, {
      method,
      headers: body !== undefined ? { "Content-Type": "application/json", Accept: "application/json" } : { Accept: "application/json" },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    text = await response.text();
  } catch (error) {
    done(0, performance.now() - started, String(error));
    throw new ProblemError(0, { title: "Network error", detail: `the service did not answer (${error.message})` });
  }
  done(response.status, performance.now() - started, text);
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!response.ok) throw new ProblemError(response.status, json || { title: text.slice(0, 200) });
  return { status: response.status, headers: response.headers, body: json };
}

/**
 * Follows a job's event stream with EventSource. `on` has progress, done, failed,
 * cancelled and error callbacks; returns a function that closes the stream.
 */
export function follow(path, on) {
  const done = logCall("GET", path, curlFor("GET", path, undefined, { stream: true }), "server-sent events: progress, then done, failed or cancelled");
  const started = performance.now();
  const source = new EventSource(path);
  let events = 0;
  let closed = false;
  const close = (label) => {
    if (closed) return;
    closed = true;
    source.close();
    done(200, performance.now() - started, `${events} events, ended with ${label}`);
  };
  const parse = (e) => {
    events += 1;
    try {
      return JSON.parse(e.data);
    } catch {
      return {};
    }
  };
  source.addEventListener("progress", (e) => on.progress(parse(e)));
  source.addEventListener("done", (e) => {
    const result = parse(e);
    close("done");
    on.done(result);
  });
  source.addEventListener("failed", (e) => {
    const data = parse(e);
    close("failed");
    on.failed(data);
  });
  source.addEventListener("cancelled", (e) => {
    const data = parse(e);
    close("cancelled");
    on.cancelled(data);
  });
  source.addEventListener("error", () => {
    // EventSource reconnects by itself (resuming with Last-Event-ID) unless the
    // stream is gone for good.
    if (source.readyState === EventSource.CLOSED && !closed) {
      close("error");
      on.error();
    }
  });
  return () => close("closed by the page");
}
