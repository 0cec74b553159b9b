// The REST API as the console uses it: every call carries the token the user typed, from sessionStorage
// (never a cookie, never localStorage, never a URL), so the service's one auth filter and its audit see
// each view and action as that user's own request.

const TOKEN_KEY = 'ltc-secrets.console.token';
// Relative to /console/, so the console also works behind a reverse proxy that mounts the service elsewhere.
const BASE = new URL('../api/v1', document.baseURI).pathname;

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  sessionStorage.setItem(TOKEN_KEY, value);
}

export function clearToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** A refusal or failure, as the API's problem document (RFC 9457) says it. */
export class ApiProblem extends Error {
  constructor(status, code, detail, requestId) {
    super(`${status} ${code}: ${detail}`);
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.requestId = requestId;
  }
}

let onUnauthorized = () => {};
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

async function send(method, path, body, accept) {
  const headers = { Accept: accept };
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  const init = { method, headers, cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(BASE + path, init);
  } catch (e) {
    throw new ApiProblem(0, 'unreachable', 'the service did not answer (is it running, is the tunnel up?)', null);
  }
  if (!response.ok) {
    let problem = {};
    try {
      problem = await response.json();
    } catch (e) {
      // 414/431 from the HTTP layer have no problem body.
    }
    const err = new ApiProblem(response.status, problem.code || `http-${response.status}`,
      problem.detail || response.statusText || 'request refused', problem.requestId || response.headers.get('X-Request-Id'));
    if (response.status === 401) onUnauthorized(err);
    throw err;
  }
  return response;
}

/** GET/POST/DELETE a JSON endpoint; resolves to the parsed body (null for 204). */
export async function api(method, path, body) {
  const response = await send(method, path, body, 'application/json');
  if (response.status === 204) return null;
  const type = response.headers.get('Content-Type') || '';
  return type.includes('json') ? response.json() : response.text();
}

/** A streamed download (audit export) as a Blob, with the response's headers. */
export async function download(path) {
  const response = await send('GET', path, undefined, '*/*');
  return { blob: await response.blob(), headers: response.headers };
}

/** Builds a query string from the non-empty entries of an object. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, v);
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

export const seg = encodeURIComponent;
