// <avatar-editor service="https://pictures.example.com" user-id="alice">: choose, crop, upload, pick,
// rename, trash and restore a user's pictures, live over the hub. build.mjs bundles this module with
// Cropper.js 2 and the SignalR browser client into /client/avatar-editor.js.
import Cropper from 'cropperjs';
import {
  HubConnectionBuilder, HubConnectionState, LogLevel,
} from '@microsoft/signalr';

const HUB_PATH = '/hubs/pictures';
const RECONNECT_DELAYS = [0, 1000, 2000, 5000, 10000, 10000, 30000];
// The hub events that change the pictures shown: ImagePictures.Contracts' EventTypes.All but EmailsChanged,
// which concerns e-mail addresses, not pictures (JsEventNamesTests compares them).
const HUB_EVENTS = ['PictureUploaded', 'PictureUpdated', 'ActivePictureChanged', 'PictureTrashed', 'PictureRestored', 'PicturePurged', 'UserPicturesDeleted'];
const DEFAULT_MAX_BYTES = 10 * 1024 * 1024; // the service's Pictures:MaxUploadBytes default
const DEFAULT_MAX_PICTURES = 100; // the service's Pictures:MaxPicturesPerUser default
const MIN_CROP = 32; // the smallest crop the commit accepts
const MAX_RETRIES = 3; // 503/429 answers retried after their Retry-After
const ACCEPTED_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/heic', 'image/heif', 'image/avif'];
const ACCEPTED_EXTENSIONS = ['jpg', 'jpeg', 'jfif', 'png', 'webp', 'gif', 'heic', 'heif', 'avif'];
const scriptOrigin = new URL(import.meta.url).origin;

/** Every user-visible text; the `strings` property replaces any of them. {name} marks a value. */
export const DEFAULT_STRINGS = {
  heading: 'Your pictures',
  close: 'Close',
  picturesTab: 'Pictures',
  trashTab: 'Trash ({count})',
  quota: '{count} of {max}',
  quotaLabel: 'Pictures used, counting the trash',
  choose: 'Choose an image',
  dropHint: 'or drop one here, or paste it',
  camera: 'Take a photo',
  active: 'Active',
  activate: 'Use as avatar',
  rename: 'Rename',
  renameLabel: 'Title of the picture',
  save: 'Save',
  cancel: 'Cancel',
  trash: 'Move to trash',
  restore: 'Restore',
  deleteForever: 'Delete forever',
  emptyTrash: 'Empty trash',
  confirmEmptyTrash: 'Delete all {count} pictures in the trash forever? This cannot be undone.',
  confirmDelete: 'Delete this picture forever? This cannot be undone.',
  keep: 'Keep them',
  noPictures: 'No pictures yet. Choose an image to upload your first one.',
  noTrash: 'The trash is empty.',
  trashNote: 'Pictures in the trash are deleted for good after {date}.',
  untitled: 'Picture of {date}',
  cropHeading: 'Crop your picture',
  cropHelp: 'Drag the square or use the arrow keys to move it; + and - (or the buttons) zoom.',
  cropArea: 'Crop area',
  zoomIn: 'Zoom in',
  zoomOut: 'Zoom out',
  useCrop: 'Save picture',
  uploading: 'Uploading… {percent}%',
  processing: 'Processing…',
  waiting: 'The service is busy; trying again in {seconds} s.',
  retry: 'Try again',
  dismiss: 'Dismiss',
  offline: 'Live updates are disconnected.',
  reconnect: 'Reconnect',
  connectionLostTitle: 'Connection lost',
  connectionLostDetail: 'The request did not reach the service. Check your connection and try again.',
  badServiceTitle: 'Invalid service address',
  badServiceDetail: 'The service attribute must be an http:// or https:// address.',
  // The service's own words for what it refuses, so a refusal reads the same before and after upload.
  tooLargeTitle: 'Upload too large',
  tooLargeDetail: 'The upload is larger than {mib} MiB; send a smaller image.',
  unsupportedTitle: 'Unsupported image type',
  unsupportedDetail: 'This file type is not supported. Please upload a JPEG, PNG, WebP, GIF, HEIC or AVIF image.',
  quotaTitle: 'Picture quota reached',
  quotaDetail: 'You already have {max} pictures, counting the trash. Purge some from the trash or delete pictures before uploading more.',
  errorTitle: 'Something went wrong',
};

const STYLE = `
:host {
  --avatar-editor-bg: #ffffff; --avatar-editor-fg: #1b1c1f; --avatar-editor-muted: #4f5563;
  --avatar-editor-border: #c9ccd3; --avatar-editor-surface: #f3f4f7;
  --avatar-editor-accent: #0b57d0; --avatar-editor-on-accent: #ffffff;
  --avatar-editor-danger: #b3261e; --avatar-editor-on-danger: #ffffff;
  --avatar-editor-radius: 8px; --avatar-editor-gap: 12px; --avatar-editor-thumb: 112px;
  --avatar-editor-font: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  display: block; color: var(--avatar-editor-fg); background: var(--avatar-editor-bg);
  font: 14px/1.4 var(--avatar-editor-font); border: 1px solid var(--avatar-editor-border);
  border-radius: var(--avatar-editor-radius); padding: var(--avatar-editor-gap); max-width: 720px;
  box-sizing: border-box;
}
@media (prefers-color-scheme: dark) {
  :host {
    --avatar-editor-bg: #1c1d21; --avatar-editor-fg: #ececf0; --avatar-editor-muted: #b9bdc7;
    --avatar-editor-border: #474a53; --avatar-editor-surface: #2a2c32;
    --avatar-editor-accent: #a8c7fa; --avatar-editor-on-accent: #062e6f;
    --avatar-editor-danger: #ffb4ab; --avatar-editor-on-danger: #690005;
  }
}
:host([hidden]) { display: none; }
* { box-sizing: border-box; }
header { display: flex; align-items: center; gap: var(--avatar-editor-gap); flex-wrap: wrap; margin-bottom: var(--avatar-editor-gap); }
h2 { font-size: 1.15em; margin: 0; flex: 1; }
h3 { font-size: 1em; margin: 0 0 8px; }
button, .button {
  font: inherit; color: var(--avatar-editor-fg); background: var(--avatar-editor-surface);
  border: 1px solid var(--avatar-editor-border); border-radius: calc(var(--avatar-editor-radius) / 2);
  padding: 4px 10px; cursor: pointer; display: inline-flex; align-items: center; gap: 4px;
}
button.primary, .button.primary { background: var(--avatar-editor-accent); color: var(--avatar-editor-on-accent); border-color: var(--avatar-editor-accent); }
button.danger { background: var(--avatar-editor-danger); color: var(--avatar-editor-on-danger); border-color: var(--avatar-editor-danger); }
button:disabled { opacity: .55; cursor: default; }
button:focus-visible, .button:focus-within, [tabindex]:focus-visible, input:focus-visible {
  outline: 3px solid var(--avatar-editor-accent); outline-offset: 2px;
}
[role=tablist] { display: flex; gap: 4px; border-bottom: 1px solid var(--avatar-editor-border); margin-bottom: var(--avatar-editor-gap); }
[role=tab] { border-bottom-left-radius: 0; border-bottom-right-radius: 0; border-bottom: none; }
[role=tab][aria-selected=true] { background: var(--avatar-editor-accent); color: var(--avatar-editor-on-accent); border-color: var(--avatar-editor-accent); }
.quota { color: var(--avatar-editor-muted); }
.drop {
  border: 2px dashed var(--avatar-editor-border); border-radius: var(--avatar-editor-radius); padding: var(--avatar-editor-gap);
  display: flex; align-items: center; gap: var(--avatar-editor-gap); flex-wrap: wrap; margin-bottom: var(--avatar-editor-gap);
}
.drop.over { border-color: var(--avatar-editor-accent); background: var(--avatar-editor-surface); }
.drop span { color: var(--avatar-editor-muted); }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
ul.grid { list-style: none; padding: 0; margin: 0; display: grid; gap: var(--avatar-editor-gap);
  grid-template-columns: repeat(auto-fill, minmax(calc(var(--avatar-editor-thumb) + 24px), 1fr)); }
li.card { border: 1px solid var(--avatar-editor-border); border-radius: var(--avatar-editor-radius); padding: 8px;
  display: flex; flex-direction: column; gap: 6px; align-items: stretch; }
li.card.active { border: 2px solid var(--avatar-editor-accent); }
li.card img, li.card .tile { width: var(--avatar-editor-thumb); height: var(--avatar-editor-thumb); border-radius: calc(var(--avatar-editor-radius) / 2);
  align-self: center; object-fit: cover; background: var(--avatar-editor-surface); }
.title { overflow-wrap: anywhere; }
.badge { align-self: center; background: var(--avatar-editor-accent); color: var(--avatar-editor-on-accent); border-radius: 999px; padding: 0 8px; font-size: .85em; }
.actions { display: flex; flex-wrap: wrap; gap: 4px; }
.actions button { font-size: .85em; padding: 2px 6px; }
input[type=text] { font: inherit; color: var(--avatar-editor-fg); background: var(--avatar-editor-bg); border: 1px solid var(--avatar-editor-border); border-radius: 4px; padding: 2px 6px; width: 100%; }
.muted { color: var(--avatar-editor-muted); }
.error { border: 1px solid var(--avatar-editor-danger); border-radius: var(--avatar-editor-radius); padding: 8px 10px; margin-bottom: var(--avatar-editor-gap); }
.error strong { display: block; color: var(--avatar-editor-danger); }
.status { margin-bottom: var(--avatar-editor-gap); display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
progress { width: 100%; height: 10px; accent-color: var(--avatar-editor-accent); }
.crop-stage { width: 100%; height: var(--avatar-editor-crop-height, 360px); border-radius: var(--avatar-editor-radius); overflow: hidden; }
.crop-stage:focus-visible { outline: 3px solid var(--avatar-editor-accent); outline-offset: 2px; }
cropper-canvas { width: 100%; height: 100%; }
.bar { display: flex; gap: 8px; flex-wrap: wrap; margin-top: var(--avatar-editor-gap); }
.confirm { border: 1px solid var(--avatar-editor-danger); border-radius: var(--avatar-editor-radius); padding: 8px 10px; margin-bottom: var(--avatar-editor-gap); }
`;

/** A problem to show: the service's problem details, or one of ours in the same shape. */
class Problem extends Error {
  constructor(status, title, detail, retry) {
    super(detail || title);
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.retry = retry || null; // a function that tries again, when trying again makes sense
  }
}

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key in el && !key.includes('-') && key !== 'list') el[key] = value;
    else el.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) if (child != null && child !== false) el.append(child);
  return el;
}

function format(text, values) {
  return String(text).replace(/\{(\w+)\}/g, (m, name) => (name in (values || {}) ? String(values[name]) : m));
}

function retryAfterSeconds(value) {
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds, 60);
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.min(Math.max(0, (date - Date.now()) / 1000), 60) : null;
}

const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const nextFrame = () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));

class AvatarEditorElement extends HTMLElement {
  static get observedAttributes() { return ['service', 'user-id', 'max-bytes', 'max-pictures']; }

  constructor() {
    super();
    this.root = this.attachShadow({ mode: 'open' });
    this._strings = { ...DEFAULT_STRINGS };
    this._tokenProvider = null;
    this.view = 'pictures'; // pictures | trash | crop
    this.pictures = [];
    this.trashed = [];
    this.problem = null;
    this.status = null; // { text, progress } while uploading or waiting
    this.staged = null; // { upload, file, url } while cropping
    this.renaming = null; // picture id
    this.confirming = null; // { text, action }
    this.offline = false;
    this.lastSeq = null;
    this.seen = new Set();
    this.hub = null;
    this.generation = 0; // bumps when service/user change, so stale answers are dropped
    this.cropper = null;
    this.reloadQueued = false;
    this.addEventListener('paste', (e) => this.onPaste(e));
  }

  // ---- public surface ----
  /** The hub connection: connected, reconnecting or disconnected; reflected as the `connection` attribute for styling and pages. */
  get connection() { return this.getAttribute('connection') || 'disconnected'; }
  set connection(state) { if (this.getAttribute('connection') !== state) this.setAttribute('connection', state); }

  get strings() { return this._strings; }
  set strings(value) { this._strings = { ...DEFAULT_STRINGS, ...(value || {}) }; this.render(); }
  get tokenProvider() { return this._tokenProvider; }
  set tokenProvider(fn) {
    this._tokenProvider = typeof fn === 'function' ? fn : null;
    if (this.started) this.restart();
  }
  get userId() { return this.getAttribute('user-id') || ''; }
  get maxBytes() { const n = Number(this.getAttribute('max-bytes')); return n > 0 ? n : DEFAULT_MAX_BYTES; }
  get maxPictures() { const n = Number(this.getAttribute('max-pictures')); return n > 0 ? n : DEFAULT_MAX_PICTURES; }
  /** The service's base URL without a trailing slash; null when it is not http: or https:. */
  get service() {
    const raw = this.getAttribute('service');
    let url;
    try { url = new URL(raw || scriptOrigin, location.href); } catch { return null; }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    return url.href.replace(/\/+$/, '');
  }

  connectedCallback() {
    // A page may set the properties before this module defined the element: take them over.
    for (const name of ['tokenProvider', 'strings']) {
      if (Object.prototype.hasOwnProperty.call(this, name)) {
        const value = this[name];
        delete this[name];
        if (name === 'strings') this._strings = { ...DEFAULT_STRINGS, ...(value || {}) };
        else this._tokenProvider = typeof value === 'function' ? value : null;
      }
    }
    if (!this.hasAttribute('tabindex') && !this.hasAttribute('role')) this.setAttribute('role', 'region');
    if (!this.hasAttribute('aria-label')) this.setAttribute('aria-label', this._strings.heading);
    this.started = true;
    this.restart();
  }

  disconnectedCallback() { this.started = false; this.stopHub(); this.destroyCropper(); }

  attributeChangedCallback(name, oldValue, newValue) {
    // Also called for each attribute while the element upgrades, before connectedCallback: that one starts.
    if (oldValue === newValue || !this.started) return;
    if (name === 'service' || name === 'user-id') this.restart();
    else this.render();
  }

  /** Reloads the pictures (also what a page may call after it changed them by other means). */
  async refresh() {
    const generation = this.generation;
    const user = encodeURIComponent(this.userId);
    const [pictures, trashed] = await Promise.all([
      this.request('GET', `/api/users/${user}/pictures`),
      this.request('GET', `/api/users/${user}/trash`),
    ]);
    if (generation !== this.generation) return;
    this.pictures = pictures;
    this.trashed = trashed;
    this.render();
  }

  // ---- plumbing ----
  restart() {
    this.generation++;
    this.stopHub();
    this.pictures = [];
    this.trashed = [];
    this.problem = null;
    this.lastSeq = null;
    this.seen.clear();
    if (!this.service) {
      this.problem = new Problem(0, this._strings.badServiceTitle, this._strings.badServiceDetail);
      this.render();
      return;
    }
    this.render();
    // Every route needs the user's token: nothing to ask for until the page gives a way to get one.
    if (!this.userId || !this._tokenProvider) return;
    this.guard(() => this.refresh());
    this.startHub();
  }

  async token() {
    if (!this._tokenProvider) return null;
    const token = await this._tokenProvider();
    return token ? String(token) : null;
  }

  /** fetch with the bearer token; problem details become a Problem; 503/429 wait for Retry-After and retry. */
  async request(method, path, body) {
    for (let attempt = 0; ; attempt++) {
      const headers = { Accept: 'application/json' };
      const token = await this.token();
      if (token) headers.Authorization = `Bearer ${token}`;
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      let response;
      try {
        response = await fetch(this.service + path, {
          method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'omit', mode: 'cors',
        });
      } catch {
        throw new Problem(0, this._strings.connectionLostTitle, this._strings.connectionLostDetail);
      }
      if ((response.status === 503 || response.status === 429) && attempt < MAX_RETRIES) {
        const seconds = retryAfterSeconds(response.headers.get('Retry-After'));
        if (seconds != null) { await this.waitShown(seconds); continue; }
      }
      if (!response.ok) throw await this.problemOf(response.status, () => response.text());
      if (response.status === 204) return null;
      const text = await response.text();
      return text ? JSON.parse(text) : null;
    }
  }

  async waitShown(seconds) {
    const previous = this.status;
    for (let left = Math.ceil(seconds); left > 0; left--) {
      this.status = { text: format(this._strings.waiting, { seconds: left }) };
      this.render();
      await wait(1000);
    }
    if (seconds > 0 && seconds < 1) await wait(seconds * 1000);
    this.status = previous;
    this.render();
  }

  async problemOf(status, readText) {
    let json = null;
    try { json = JSON.parse(await readText()); } catch { /* not JSON */ }
    const title = (json && typeof json.title === 'string' && json.title) || this._strings.errorTitle;
    const detail = (json && typeof json.detail === 'string' && json.detail) || '';
    return new Problem(status, title, detail);
  }

  /** Runs an action; a problem it throws is shown and dispatched as `error`. */
  async guard(action) {
    try {
      return await action();
    } catch (error) {
      this.showProblem(error instanceof Problem ? error : new Problem(0, this._strings.errorTitle, String(error && error.message || error)));
      return undefined;
    }
  }

  showProblem(problem) {
    this.problem = problem;
    this.status = null;
    this.render();
    this.dispatchEvent(new CustomEvent('error', {
      bubbles: true, composed: true,
      detail: { status: problem.status, title: problem.title, detail: problem.detail },
    }));
  }

  changed(detail) {
    this.dispatchEvent(new CustomEvent('change', { bubbles: true, composed: true, detail }));
  }

  // ---- live updates ----
  startHub() {
    const generation = this.generation;
    const connection = new HubConnectionBuilder()
      .withUrl(this.service + HUB_PATH, { accessTokenFactory: async () => (await this.token()) || '', withCredentials: false })
      .withAutomaticReconnect(RECONNECT_DELAYS)
      .configureLogging({ log: (level, message) => { if (level >= LogLevel.Warning && level < LogLevel.None) console.debug('[avatar-editor] ' + message); } })
      .build();
    for (const name of HUB_EVENTS) {
      connection.on(name, (event) => { if (generation === this.generation) this.onEvent(event); });
    }
    connection.onreconnecting(() => { this.offline = true; this.connection = 'reconnecting'; this.render(); });
    connection.onreconnected(() => { this.offline = false; this.connection = 'connected'; this.render(); this.catchUp(); });
    connection.onclose(() => {
      if (generation !== this.generation) return;
      this.offline = true;
      this.connection = 'disconnected';
      this.render();
    });
    this.hub = connection;
    this.connectHub();
  }

  async connectHub() {
    const connection = this.hub;
    if (!connection || connection.state !== HubConnectionState.Disconnected) return;
    try {
      await connection.start();
      this.connection = 'connected';
      // The token's own user is joined by the service; an admin editing someone else watches them.
      await connection.invoke('Watch', [this.userId]).catch(() => {});
      if (this.offline) {
        this.offline = false;
        this.render();
        await this.catchUp();
      }
    } catch {
      if (connection === this.hub) { this.offline = true; this.connection = 'disconnected'; this.render(); }
    }
  }

  stopHub() {
    const connection = this.hub;
    this.hub = null;
    this.offline = false;
    this.connection = 'disconnected';
    if (connection) connection.stop().catch(() => {});
  }

  /** After a reconnect: the events missed since the last one seen, then the lists as they are now. */
  async catchUp() {
    await this.guard(async () => {
      // Page by page (the route answers at most 1,000 at a time), oldest first, from the last one seen.
      while (this.lastSeq != null) {
        const after = this.lastSeq;
        const page = (await this.request('GET', `/api/users/${encodeURIComponent(this.userId)}/events?after=${after}&limit=1000`)) || [];
        for (const event of page) this.noteEvent(event);
        if (page.length < 1000 || this.lastSeq === after) break;
      }
      await this.refresh();
    });
  }

  noteEvent(event) {
    if (!event || typeof event.seq !== 'number' || this.seen.has(event.seq)) return false;
    this.seen.add(event.seq);
    if (this.seen.size > 2000) this.seen = new Set([...this.seen].slice(-1000));
    if (this.lastSeq == null || event.seq > this.lastSeq) this.lastSeq = event.seq;
    this.changed({ event });
    return true;
  }

  onEvent(event) {
    if (event.userId !== this.userId) return;
    if (!this.noteEvent(event)) return;
    this.queueReload();
  }

  // Several events of one change arrive together: one reload for all of them.
  queueReload() {
    if (this.reloadQueued) return;
    this.reloadQueued = true;
    queueMicrotask(async () => {
      this.reloadQueued = false;
      await this.guard(() => this.refresh());
    });
  }

  // ---- choosing and uploading ----
  onPaste(event) {
    const file = [...(event.clipboardData?.files || [])].find((f) => f.type.startsWith('image/') || f.name);
    if (!file || this.view === 'crop') return;
    event.preventDefault();
    this.choose(file);
  }

  refusal(file) {
    const s = this._strings;
    const extension = (file.name.split('.').pop() || '').toLowerCase();
    const typeOk = file.type ? ACCEPTED_TYPES.includes(file.type.toLowerCase()) : ACCEPTED_EXTENSIONS.includes(extension);
    // HEIC from iPhones may come without a type, or with a generic one.
    const heic = ['heic', 'heif'].includes(extension);
    if (!typeOk && !heic) return new Problem(415, s.unsupportedTitle, s.unsupportedDetail);
    if (file.size > this.maxBytes) {
      const mib = (Math.round((this.maxBytes / (1024 * 1024)) * 10) / 10).toString();
      return new Problem(413, s.tooLargeTitle, format(s.tooLargeDetail, { mib }));
    }
    if (this.pictures.length + this.trashed.length >= this.maxPictures) {
      return new Problem(409, s.quotaTitle, format(s.quotaDetail, { max: this.maxPictures }));
    }
    return null;
  }

  async choose(file) {
    this.problem = null;
    const refused = this.refusal(file);
    if (refused) { this.showProblem(refused); return; }
    await this.guard(() => this.stage(file));
  }

  /** POST /api/uploads with XMLHttpRequest, for its upload progress. */
  async stage(file) {
    const generation = this.generation;
    for (let attempt = 0; ; attempt++) {
      const token = await this.token();
      this.status = { text: format(this._strings.uploading, { percent: 0 }), progress: 0 };
      this.render();
      const answer = await new Promise((resolve) => {
        const xhr = new XMLHttpRequest();
        xhr.open('POST', this.service + '/api/uploads');
        xhr.responseType = 'text';
        if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
        xhr.setRequestHeader('Accept', 'application/json');
        xhr.upload.onprogress = (e) => {
          if (!e.lengthComputable) return;
          const percent = Math.round((e.loaded / e.total) * 100);
          this.status = percent >= 100
            ? { text: this._strings.processing, busy: true }
            : { text: format(this._strings.uploading, { percent }), progress: percent };
          this.render();
        };
        xhr.upload.onload = () => { this.status = { text: this._strings.processing, busy: true }; this.render(); };
        xhr.onload = () => resolve({ status: xhr.status, text: xhr.responseText, retryAfter: xhr.getResponseHeader('Retry-After') });
        xhr.onerror = () => resolve({ status: 0 });
        xhr.onabort = () => resolve({ status: 0 });
        const form = new FormData();
        form.append('file', file, file.name || 'image');
        xhr.send(form);
      });
      if (generation !== this.generation) return;
      if (answer.status === 0) {
        throw new Problem(0, this._strings.connectionLostTitle, this._strings.connectionLostDetail, () => this.choose(file));
      }
      if ((answer.status === 503 || answer.status === 429) && attempt < MAX_RETRIES) {
        const seconds = retryAfterSeconds(answer.retryAfter);
        if (seconds != null) { await this.waitShown(seconds); continue; }
      }
      if (answer.status !== 201) throw await this.problemOf(answer.status, async () => answer.text);
      const upload = JSON.parse(answer.text);
      this.status = null;
      await this.openCropper(upload, file);
      return;
    }
  }

  async openCropper(upload, file) {
    const token = await this.token();
    let response;
    try {
      response = await fetch(this.service + upload.previewUrl, { headers: token ? { Authorization: `Bearer ${token}` } : {}, credentials: 'omit' });
    } catch {
      throw new Problem(0, this._strings.connectionLostTitle, this._strings.connectionLostDetail);
    }
    if (!response.ok) throw await this.problemOf(response.status, () => response.text());
    const url = URL.createObjectURL(await response.blob());
    this.staged = { upload, file, url };
    this.view = 'crop';
    this.render(); // sets up the cropper
  }

  async setUpCropper() {
    const stage = this.root.querySelector('.crop-stage');
    const staged = this.staged;
    if (!stage || !staged) return;
    const img = h('img', { src: staged.url, alt: '' });
    stage.append(img);
    this.cropper = new Cropper(img, {
      container: stage,
      template: '<cropper-canvas background>'
        + '<cropper-image initial-center-size="contain"></cropper-image>'
        + '<cropper-shade theme-color="rgba(0, 0, 0, 0.6)"></cropper-shade>'
        + '<cropper-selection aspect-ratio="1" initial-coverage="0.8" movable resizable zoomable outlined precise>'
        + '<cropper-grid role="grid" covered></cropper-grid>'
        + '<cropper-handle action="move" theme-color="rgba(255, 255, 255, 0.2)"></cropper-handle>'
        + '<cropper-handle action="ne-resize"></cropper-handle><cropper-handle action="nw-resize"></cropper-handle>'
        + '<cropper-handle action="se-resize"></cropper-handle><cropper-handle action="sw-resize"></cropper-handle>'
        + '</cropper-selection></cropper-canvas>',
    });
    const image = this.cropper.getCropperImage();
    const selection = this.cropper.getCropperSelection();
    // The selection never leaves the image, and never gets smaller than the commit accepts.
    selection.addEventListener('change', (event) => {
      const box = this.imageBox();
      if (!box) return;
      const { x, y, width, height } = event.detail;
      const eps = 0.5;
      if (x < box.x - eps || y < box.y - eps || x + width > box.x + box.width + eps || y + height > box.y + box.height + eps
          || width * box.scale < MIN_CROP) {
        event.preventDefault();
      }
    });
    try { await image.$ready(); } catch { return; }
    await nextFrame();
    if (this.staged !== staged) return;
    const box = this.imageBox();
    const s = staged.upload.suggestedCrop;
    if (box) {
      if (s && s.width > 0) {
        selection.$change(box.x + s.x / box.scale, box.y + s.y / box.scale, s.width / box.scale, s.height / box.scale, 1, true);
      } else {
        const side = Math.min(box.width, box.height);
        selection.$change(box.x + (box.width - side) / 2, box.y + (box.height - side) / 2, side, side, 1, true);
      }
    }
    this.root.querySelector('.crop-stage')?.focus();
  }

  /** The image's box in the canvas' coordinates, and staged-image pixels per canvas pixel. */
  imageBox() {
    if (!this.cropper || !this.staged) return null;
    const canvas = this.cropper.getCropperCanvas().getBoundingClientRect();
    const image = this.cropper.getCropperImage().getBoundingClientRect();
    if (!image.width || !image.height) return null;
    return { x: image.left - canvas.left, y: image.top - canvas.top, width: image.width, height: image.height,
      scale: this.staged.upload.width / image.width };
  }

  /** The selection as the commit's crop, in staged-image pixels, a square inside the image. */
  crop() {
    const box = this.imageBox();
    const selection = this.cropper?.getCropperSelection();
    if (!box || !selection) return null;
    const { width: w, height: hgt } = this.staged.upload;
    let side = Math.round(Math.min(selection.width, selection.height) * box.scale);
    side = Math.max(MIN_CROP, Math.min(side, w, hgt));
    const x = Math.min(Math.max(0, Math.round((selection.x - box.x) * box.scale)), w - side);
    const y = Math.min(Math.max(0, Math.round((selection.y - box.y) * box.scale)), hgt - side);
    return { x, y, width: side, height: side };
  }

  onCropKey(event) {
    const selection = this.cropper?.getCropperSelection();
    if (!selection) return;
    const step = event.shiftKey ? 10 : 1;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (moves[event.key]) {
      event.preventDefault();
      // Clamped here, so that a step that would cross the edge ends exactly at it.
      const box = this.imageBox();
      if (!box) return;
      const [dx, dy] = moves[event.key];
      const x = Math.min(Math.max(box.x, selection.x + dx), box.x + box.width - selection.width);
      const y = Math.min(Math.max(box.y, selection.y + dy), box.y + box.height - selection.height);
      selection.$change(x, y, selection.width, selection.height, 1);
    } else if (event.key === '+' || event.key === '=') {
      event.preventDefault();
      this.zoom(1);
    } else if (event.key === '-') {
      event.preventDefault();
      this.zoom(-1);
    }
  }

  /** Zooming in shows less of the image: the square shrinks around its centre (and grows to zoom out). */
  zoom(direction) {
    const selection = this.cropper?.getCropperSelection();
    const box = this.imageBox();
    if (!selection || !box) return;
    const side = Math.min(selection.width * (direction > 0 ? 0.9 : 1 / 0.9), box.width, box.height);
    const cx = selection.x + selection.width / 2, cy = selection.y + selection.height / 2;
    const x = Math.min(Math.max(box.x, cx - side / 2), box.x + box.width - side);
    const y = Math.min(Math.max(box.y, cy - side / 2), box.y + box.height - side);
    selection.$change(x, y, side, side, 1);
  }

  async commit() {
    const staged = this.staged;
    if (!staged) return;
    const crop = this.crop();
    this.status = { text: this._strings.processing, busy: true };
    this.render();
    const picture = await this.guard(() => this.request('POST', `/api/uploads/${staged.upload.id}/commit`, { activate: true, crop }));
    this.status = null;
    if (!picture) { this.render(); return; }
    this.closeCropper();
    this.dispatchEvent(new CustomEvent('upload', { bubbles: true, composed: true, detail: { picture, crop } }));
    this.changed({ picture });
    await this.guard(() => this.refresh());
    this.root.querySelector(`[data-picture-id="${picture.id}"] [data-testid=activate], [data-testid=choose]`)?.focus();
  }

  async cancelCrop() {
    const staged = this.staged;
    this.closeCropper();
    this.render();
    if (staged) await this.guard(() => this.request('DELETE', `/api/uploads/${staged.upload.id}`));
    this.root.querySelector('[data-testid=choose]')?.focus();
  }

  closeCropper() {
    this.destroyCropper();
    if (this.staged) URL.revokeObjectURL(this.staged.url);
    this.staged = null;
    this.view = 'pictures';
  }

  destroyCropper() {
    if (this.cropper) { this.cropper.destroy(); this.cropper = null; }
  }

  // ---- picture actions ----
  async act(method, path, body, focusSelector) {
    this.problem = null;
    const result = await this.guard(() => this.request(method, path, body));
    if (result === undefined) return;
    this.changed({ picture: result && result.id ? result : null });
    await this.guard(() => this.refresh());
    if (focusSelector) this.root.querySelector(focusSelector)?.focus();
  }

  picturePath(picture) { return `/api/users/${encodeURIComponent(this.userId)}/pictures/${picture.id}`; }

  activate(picture) {
    return this.act('PUT', `/api/users/${encodeURIComponent(this.userId)}/active-picture`, { pictureId: picture.id },
      `[data-picture-id="${picture.id}"] [data-testid=activate]`);
  }

  trash(picture) { return this.act('DELETE', this.picturePath(picture), undefined, '[data-testid=trash-tab]'); }

  restore(picture) {
    return this.act('POST', `/api/users/${encodeURIComponent(this.userId)}/trash/${picture.id}/restore`, undefined, '[data-testid=pictures-tab]');
  }

  async rename(picture, title) {
    this.renaming = null;
    await this.act('PATCH', this.picturePath(picture), { title: title.trim() === '' ? null : title.trim() },
      `[data-picture-id="${picture.id}"] [data-testid=rename]`);
  }

  purge(picture) {
    this.confirming = {
      text: this._strings.confirmDelete,
      action: () => this.act('DELETE', `/api/users/${encodeURIComponent(this.userId)}/trash/${picture.id}`, undefined, '[data-testid=trash-tab]'),
    };
    this.render();
    this.root.querySelector('[data-testid=confirm]')?.focus();
  }

  emptyTrash() {
    this.confirming = {
      text: format(this._strings.confirmEmptyTrash, { count: this.trashed.length }),
      action: () => this.act('DELETE', `/api/users/${encodeURIComponent(this.userId)}/trash`, undefined, '[data-testid=trash-tab]'),
    };
    this.render();
    this.root.querySelector('[data-testid=confirm]')?.focus();
  }

  show(view) {
    if (this.view === 'crop') return;
    this.view = view;
    this.confirming = null;
    this.renaming = null;
    this.render();
    this.root.querySelector(`[data-testid=${view === 'trash' ? 'trash-tab' : 'pictures-tab'}]`)?.focus();
  }

  // ---- rendering ----
  render() {
    if (!this.isConnected) return;
    const s = this._strings;
    if (!this.styled) {
      this.root.append(h('style', {}, STYLE));
      this.main = h('div', { part: 'base' });
      this.root.append(this.main);
      this.styled = true;
    }
    // The cropper stays as it is while cropping: only the status line above it changes.
    if (this.view === 'crop' && this.main.querySelector('.crop-stage')) {
      this.main.querySelector('.live-status').replaceWith(this.renderStatus());
      this.main.querySelector('.problem').replaceWith(this.renderProblem());
      for (const b of this.main.querySelectorAll('.crop-buttons button')) b.disabled = !!this.status;
      return;
    }
    const focusedKey = this.root.activeElement?.getAttribute('data-focus-key');
    this.main.replaceChildren(...[
      h('header', { part: 'header' },
        h('h2', { id: 'heading' }, s.heading),
        h('span', { class: 'quota', part: 'quota', 'data-testid': 'quota', title: s.quotaLabel, 'aria-label': `${s.quotaLabel}: ${format(s.quota, { count: this.pictures.length + this.trashed.length, max: this.maxPictures })}` },
          format(s.quota, { count: this.pictures.length + this.trashed.length, max: this.maxPictures })),
        h('button', { type: 'button', part: 'button close', 'data-testid': 'close', 'data-focus-key': 'close',
          onclick: () => this.dispatchEvent(new CustomEvent('close', { bubbles: true, composed: true })) }, s.close)),
      this.offline ? h('div', { class: 'status', part: 'offline', role: 'status', 'data-testid': 'offline' },
        h('span', {}, s.offline),
        h('button', { type: 'button', part: 'button', 'data-testid': 'reconnect', onclick: () => this.connectHub() }, s.reconnect)) : null,
      this.renderProblem(),
      this.renderStatus(),
      this.view === 'crop' ? this.renderCrop() : this.renderLists()].filter(Boolean));
    if (this.view === 'crop' && this.staged) this.setUpCropper();
    if (focusedKey) this.root.querySelector(`[data-focus-key="${CSS.escape(focusedKey)}"]`)?.focus();
  }

  renderProblem() {
    const p = this.problem;
    if (!p) return h('div', { class: 'problem', hidden: true });
    return h('div', { class: 'problem error', part: 'error', role: 'alert', 'data-testid': 'error' },
      h('strong', {}, p.title),
      p.detail ? h('span', {}, p.detail) : null,
      h('div', { class: 'bar' },
        p.retry ? h('button', { type: 'button', class: 'primary', part: 'button', 'data-testid': 'retry', 'data-focus-key': 'retry',
          onclick: () => { this.problem = null; this.render(); p.retry(); } }, this._strings.retry) : null,
        h('button', { type: 'button', part: 'button', 'data-testid': 'dismiss', onclick: () => { this.problem = null; this.render(); } }, this._strings.dismiss)));
  }

  renderStatus() {
    const st = this.status;
    if (!st) return h('div', { class: 'live-status', role: 'status' });
    return h('div', { class: 'live-status status', part: 'status', role: 'status', 'aria-busy': st.busy ? 'true' : null },
      h('span', {}, st.text),
      st.progress != null
        ? h('progress', { part: 'progress', 'data-testid': 'upload-progress', max: 100, value: st.progress, 'aria-label': st.text })
        : st.busy ? h('progress', { part: 'progress', 'data-testid': 'upload-progress', 'aria-label': st.text }) : null);
  }

  renderCrop() {
    const s = this._strings;
    return h('section', { part: 'cropper', 'aria-labelledby': 'crop-heading' },
      h('h3', { id: 'crop-heading' }, s.cropHeading),
      h('p', { class: 'muted', id: 'crop-help' }, s.cropHelp),
      h('div', { class: 'crop-stage', part: 'crop-area', tabindex: 0, role: 'group', 'aria-label': s.cropArea,
        'aria-describedby': 'crop-help', 'data-testid': 'crop-area', onkeydown: (e) => this.onCropKey(e) }),
      h('div', { class: 'bar crop-buttons' },
        h('button', { type: 'button', part: 'button', 'data-testid': 'zoom-in', onclick: () => this.zoom(1) }, s.zoomIn),
        h('button', { type: 'button', part: 'button', 'data-testid': 'zoom-out', onclick: () => this.zoom(-1) }, s.zoomOut),
        h('button', { type: 'button', class: 'primary', part: 'button primary', 'data-testid': 'crop-confirm', disabled: !!this.status,
          onclick: () => this.commit() }, s.useCrop),
        h('button', { type: 'button', part: 'button', 'data-testid': 'crop-cancel', onclick: () => this.cancelCrop() }, s.cancel)));
  }

  renderLists() {
    const s = this._strings;
    const onTrash = this.view === 'trash';
    const tab = (name, testid, label, selected) => h('button', {
      type: 'button', role: 'tab', part: 'tab', id: `${name}-tab`, 'aria-selected': String(selected), 'aria-controls': 'panel',
      tabindex: selected ? 0 : -1, 'data-testid': testid, 'data-focus-key': testid, onclick: () => this.show(name),
      onkeydown: (e) => { if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') { e.preventDefault(); this.show(onTrash ? 'pictures' : 'trash'); } },
    }, label);
    return h('div', {},
      h('div', { role: 'tablist', part: 'tabs', 'aria-label': s.heading },
        tab('pictures', 'pictures-tab', s.picturesTab, !onTrash),
        tab('trash', 'trash-tab', format(s.trashTab, { count: this.trashed.length }), onTrash)),
      h('div', { id: 'panel', role: 'tabpanel', 'aria-labelledby': onTrash ? 'trash-tab' : 'pictures-tab' },
        this.confirming ? this.renderConfirm() : null,
        onTrash ? this.renderTrash() : [this.renderChooser(), this.renderGrid()]));
  }

  renderConfirm() {
    const c = this.confirming;
    return h('div', { class: 'confirm', part: 'confirm', role: 'alertdialog', 'aria-labelledby': 'confirm-text' },
      h('p', { id: 'confirm-text' }, c.text),
      h('div', { class: 'bar' },
        h('button', { type: 'button', class: 'danger', part: 'button danger', 'data-testid': 'confirm',
          onclick: () => { this.confirming = null; c.action(); } }, this._strings.deleteForever),
        h('button', { type: 'button', part: 'button', 'data-testid': 'confirm-cancel',
          onclick: () => { this.confirming = null; this.render(); this.root.querySelector('[data-testid=trash-tab]')?.focus(); } }, this._strings.keep)));
  }

  renderChooser() {
    const s = this._strings;
    const accept = ACCEPTED_TYPES.join(',') + ',.heic,.heif';
    const onFiles = (input) => { const file = input.files && input.files[0]; input.value = ''; if (file) this.choose(file); };
    // The buttons below open these (hidden) inputs, so the inputs themselves stay out of the tab order.
    const fileInput = h('input', { type: 'file', accept, class: 'visually-hidden', id: 'file', 'data-testid': 'file-input',
      tabindex: -1, 'aria-label': s.choose, onchange: (e) => onFiles(e.target) });
    const cameraInput = h('input', { type: 'file', accept: 'image/*', capture: 'user', class: 'visually-hidden', id: 'camera', 'aria-label': s.camera,
      'data-testid': 'camera-input', tabindex: -1, onchange: (e) => onFiles(e.target) });
    const busy = !!this.status;
    const drop = h('div', { class: 'drop', part: 'dropzone', 'data-testid': 'dropzone',
      ondragover: (e) => { e.preventDefault(); drop.classList.add('over'); },
      ondragleave: () => drop.classList.remove('over'),
      ondrop: (e) => {
        e.preventDefault();
        drop.classList.remove('over');
        const file = e.dataTransfer && e.dataTransfer.files[0];
        if (file && !this.status) this.choose(file);
      } },
    fileInput, cameraInput,
    h('button', { type: 'button', class: 'primary', part: 'button primary', 'data-testid': 'choose', 'data-focus-key': 'choose', disabled: busy,
      onclick: () => fileInput.click() }, s.choose),
    h('button', { type: 'button', part: 'button', 'data-testid': 'camera', disabled: busy, onclick: () => cameraInput.click() }, s.camera),
    h('span', {}, s.dropHint));
    return drop;
  }

  pictureLabel(picture) {
    return picture.title || format(this._strings.untitled, { date: new Date(picture.createdAt).toLocaleString() });
  }

  thumb(picture) {
    const url = picture.urls && (picture.urls['128'] || Object.values(picture.urls).pop());
    return h('img', { src: url ? this.service + url : '', alt: this.pictureLabel(picture), part: 'picture-image', loading: 'lazy', width: 112, height: 112 });
  }

  renderGrid() {
    const s = this._strings;
    if (this.pictures.length === 0) return h('p', { class: 'muted', 'data-testid': 'no-pictures' }, s.noPictures);
    return h('ul', { class: 'grid', part: 'grid', 'aria-label': s.picturesTab },
      this.pictures.map((p) => {
        const renaming = this.renaming === p.id;
        let titleInput;
        return h('li', { class: p.isActive ? 'card active' : 'card', part: p.isActive ? 'picture active' : 'picture',
          'data-testid': 'picture', 'data-picture-id': p.id, 'data-active': String(!!p.isActive) },
        this.thumb(p),
        p.isActive ? h('span', { class: 'badge', part: 'badge', 'data-testid': 'active-badge' }, s.active) : null,
        renaming
          ? h('form', { onsubmit: (e) => { e.preventDefault(); this.rename(p, titleInput.value); } },
            titleInput = h('input', { type: 'text', value: p.title || '', maxLength: 200, 'aria-label': s.renameLabel,
              'data-testid': 'rename-input', 'data-focus-key': `rename-input-${p.id}`,
              onkeydown: (e) => { if (e.key === 'Escape') { this.renaming = null; this.render(); } } }),
            h('div', { class: 'actions' },
              h('button', { type: 'submit', class: 'primary', part: 'button primary', 'data-testid': 'rename-save' }, s.save),
              h('button', { type: 'button', part: 'button', onclick: () => { this.renaming = null; this.render(); } }, s.cancel)))
          : h('span', { class: 'title' }, this.pictureLabel(p)),
        h('div', { class: 'actions' },
          h('button', { type: 'button', part: 'button', 'data-testid': 'activate', 'data-focus-key': `activate-${p.id}`,
            disabled: !!p.isActive, 'aria-pressed': String(!!p.isActive), onclick: () => this.activate(p) }, s.activate),
          h('button', { type: 'button', part: 'button', 'data-testid': 'rename', 'data-focus-key': `rename-${p.id}`,
            onclick: () => {
              this.renaming = p.id; this.render();
              const input = this.root.querySelector(`[data-picture-id="${p.id}"] [data-testid=rename-input]`);
              input?.focus(); input?.select();
            } }, s.rename),
          h('button', { type: 'button', part: 'button', 'data-testid': 'trash', 'data-focus-key': `trash-${p.id}`, onclick: () => this.trash(p) }, s.trash)));
      }));
  }

  renderTrash() {
    const s = this._strings;
    if (this.trashed.length === 0) return h('p', { class: 'muted', 'data-testid': 'no-trash' }, s.noTrash);
    return h('div', {},
      h('div', { class: 'bar', style: 'margin:0 0 12px' },
        h('button', { type: 'button', class: 'danger', part: 'button danger', 'data-testid': 'empty-trash', 'data-focus-key': 'empty-trash',
          onclick: () => this.emptyTrash() }, s.emptyTrash)),
      h('ul', { class: 'grid', part: 'grid trash', 'aria-label': format(s.trashTab, { count: this.trashed.length }) },
        this.trashed.map((p) => h('li', { class: 'card', part: 'picture trashed', 'data-testid': 'trashed-picture', 'data-picture-id': p.id },
          // A trashed picture's images are no longer served: a plain tile stands for it.
          h('div', { class: 'tile', part: 'picture-image', 'aria-hidden': 'true' }),
          h('span', { class: 'title' }, this.pictureLabel(p)),
          p.purgeAfter ? h('span', { class: 'muted' }, format(s.trashNote, { date: new Date(p.purgeAfter).toLocaleDateString() })) : null,
          h('div', { class: 'actions' },
            h('button', { type: 'button', part: 'button', 'data-testid': 'restore', 'data-focus-key': `restore-${p.id}`, onclick: () => this.restore(p) }, s.restore),
            h('button', { type: 'button', part: 'button', 'data-testid': 'delete-forever', onclick: () => this.purge(p) }, s.deleteForever))))));
  }
}

if (!customElements.get('avatar-editor')) customElements.define('avatar-editor', AvatarEditorElement);
export { AvatarEditorElement };

const EVENTS = ['change', 'upload', 'error', 'close'];

/**
 * For hosts that are not JavaScript (the Blazor <AvatarEditor>): the token comes from `dotnet.invokeMethodAsync('GetToken')`
 * and every event goes to `dotnet.invokeMethodAsync('Dispatch', type, detailJson)`.
 */
export function connectDotNet(element, dotnet, strings) {
  disconnectDotNet(element);
  const forward = (e) => { dotnet.invokeMethodAsync('Dispatch', e.type, JSON.stringify(e.detail ?? null)); };
  for (const type of EVENTS) element.addEventListener(type, forward);
  element.dotNetForward = forward;
  if (strings) element.strings = strings;
  element.tokenProvider = () => dotnet.invokeMethodAsync('GetToken');
}

export function disconnectDotNet(element) {
  const forward = element && element.dotNetForward;
  if (!forward) return;
  for (const type of EVENTS) element.removeEventListener(type, forward);
  element.dotNetForward = null;
}
