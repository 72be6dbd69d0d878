// The server's read API (/api) and the relayer (/relay): same origin, JSON in and out.

export class ApiError extends Error {
  constructor(status, name, detail) {
    super(detail || name);
    this.status = status;
    this.name = name;
  }
}

async function request(method, path, body) {
  const init = { method, headers: { accept: "application/json" } };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  let payload = null;
  try {
    payload = await response.json();
  } catch {
    payload = null;
  }
  if (!response.ok) {
    throw new ApiError(response.status, payload?.error || `HTTP ${response.status}`, payload?.detail);
  }
  return payload;
}

export const get = (path) => request("GET", path);
export const post = (path, body) => request("POST", path, body);

export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  return search.toString();
}

/** Poll a relayer submission until it is confirmed or dropped (or the time runs out). */
export async function waitForSubmission(id, { timeoutMs = 60000, everyMs = 500 } = {}) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const submission = await get(`/relay/submissions/${encodeURIComponent(id)}`);
    if (submission.status === "confirmed" || submission.status === "dropped") return submission;
    if (Date.now() > until) return submission;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
