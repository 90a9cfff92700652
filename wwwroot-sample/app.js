// ImagePictures browser sample: plain ES module, no build step.
// `signalR` is the global defined by signalr.min.js (loaded by a classic script before this module).

const EVENT_TYPES = ['PictureUploaded', 'PictureUpdated', 'ActivePictureChanged', 'PictureTrashed',
  'PictureRestored', 'PicturePurged', 'UserPicturesDeleted'];
// Only these can change what /avatars/{user} returns; they are also all a watcher receives.
const AVATAR_EVENTS = new Set(['ActivePictureChanged', 'UserPicturesDeleted']);
const PAGE_SIZE = 100;

const byId = (id) => document.getElementById(id);
const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
// User ids are case-sensitive in the service, so they are compared exactly (only surrounding spaces are dropped).
const norm = (userId) => String(userId ?? '').trim();
const asList = (body) => (Array.isArray(body) ? body : body?.items ?? []);

const ui = {
  state: byTestId('connection-state'), error: byTestId('error'), app: byId('app'), whoami: byId('whoami'),
  userId: byTestId('user-id'), myAvatar: byTestId('my-avatar'), upload: byTestId('upload'),
  title: byId('upload-title'), cropToggle: byId('crop-toggle'), progress: byTestId('upload-progress'),
  dropZone: byId('drop-zone'), gallery: byId('gallery'), galleryEmpty: byId('gallery-empty'),
  trash: byId('trash'), trashEmpty: byId('trash-empty'), emptyTrash: byTestId('empty-trash'),
  watchInput: byTestId('watch-input'), watched: byId('watched'),
  cropPanel: byId('crop-panel'), cropImage: byId('crop-image'), cropBox: byId('crop-box'),
  cropX: byId('crop-x'), cropY: byId('crop-y'), cropSize: byId('crop-size'), cropReadout: byId('crop-readout'),
};

const state = {
  userId: null, token: null, expiresAt: 0, hub: null,
  lastSeq: 0, seen: new Set(),      // own events already applied (live and catch-up can overlap)
  watched: new Map(),               // norm(userId) -> { userId, img, item }
  activeId: undefined, lastRender: '', refreshing: null, refreshAgain: false, uploads: 0,
};
const crop = { id: null, url: null, width: 0, height: 0, x: 0, y: 0, size: 0, drag: null };

// ---------- errors ----------

class ProblemError extends Error {
  constructor(problem) {
    super(problem.detail || problem.title || 'Request failed');
    this.problem = problem;
  }
}

// Every error body is RFC 7807 problem details; fall back gracefully when it is not.
function problemFrom(status, statusText, text) {
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { /* not JSON (e.g. proxy error page) */ }
  return new ProblemError({ status, title: body?.title || statusText || `HTTP ${status}`, detail: body?.detail || '' });
}

function showError(err) {
  const p = err?.problem ?? { title: 'Something went wrong', detail: String(err?.message ?? err) };
  ui.error.replaceChildren(el('strong', {}, p.title || 'Error'), p.detail ? `: ${p.detail}` : '');
  ui.error.hidden = false;
}

const clearError = () => { ui.error.hidden = true; ui.error.replaceChildren(); };
// Background work: report failures but never leave a promise unhandled.
const guard = (promise) => Promise.resolve(promise).catch(showError);
// User-triggered work: a fresh action clears the previous message first.
const action = (fn) => { clearError(); return guard(Promise.resolve().then(fn)); };

window.addEventListener('unhandledrejection', (e) => { e.preventDefault(); showError(e.reason); });

// ---------- DOM helper ----------

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key in node) node[key] = value;
    else node.setAttribute(key, value);
  }
  node.append(...children.filter((c) => c != null && c !== false));
  return node;
}

const fmtDate = (s) => (s ? new Date(s).toLocaleString() : '—');
const fmtBytes = (n) => (n >= 1048576 ? `${(n / 1048576).toFixed(1)} MB` : `${Math.max(1, Math.round((n ?? 0) / 1024))} KB`);

// ---------- HTTP ----------

async function fetchToken(userId) {
  const res = await fetch('/dev/token', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ userId }),
  });
  const text = await res.text();
  if (!res.ok) throw problemFrom(res.status, res.statusText, text);
  const body = JSON.parse(text);
  return { token: body.accessToken, expiresAt: Date.parse(body.expiresAt) || Date.now() + 3600_000 };
}

// Renew a minute early so long sessions and hub reconnects never present an expired token.
async function getToken() {
  if (state.token && Date.now() < state.expiresAt - 60_000) return state.token;
  Object.assign(state, await fetchToken(state.userId));
  return state.token;
}

async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${await getToken()}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw problemFrom(res.status, res.statusText, text);
  return text ? JSON.parse(text) : null;
}

const userPath = (rest = '') => `/api/users/${encodeURIComponent(state.userId)}${rest}`;
const picPath = (kind, id) => userPath(`/${kind}/${encodeURIComponent(id)}`);

// fetch() has no upload progress, hence XMLHttpRequest for multipart uploads.
async function uploadWithProgress(url, form) {
  const token = await getToken();
  const started = Date.now();
  state.uploads++;
  ui.progress.value = 0;
  ui.progress.hidden = false;
  try {
    return await new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', url);
      xhr.setRequestHeader('Authorization', `Bearer ${token}`);
      xhr.upload.onprogress = (e) => { if (e.lengthComputable) ui.progress.value = (e.loaded / e.total) * 100; };
      xhr.onload = () => {
        if (xhr.status < 200 || xhr.status >= 300) return reject(problemFrom(xhr.status, xhr.statusText, xhr.responseText));
        try { resolve(xhr.responseText ? JSON.parse(xhr.responseText) : null); } catch (err) { reject(err); }
      };
      xhr.onerror = () => reject(new ProblemError({ title: 'Network error', detail: 'The upload did not reach the server.' }));
      xhr.send(form);
    });
  } finally {
    // Keep the bar up briefly so small uploads are visible instead of a one-frame flicker.
    await sleep(Math.max(0, 400 - (Date.now() - started)));
    if (--state.uploads === 0) ui.progress.hidden = true;
  }
}

// ---------- avatars ----------

const avatarUrl = (userId, v) =>
  `/avatars/${encodeURIComponent(userId)}?size=128${v != null ? `&v=${encodeURIComponent(v)}` : ''}`;
const setMyAvatar = (v) => { ui.myAvatar.src = avatarUrl(state.userId, v); };

function setWatchedAvatar(key, v) {
  const entry = state.watched.get(key);
  if (entry) entry.img.src = avatarUrl(entry.userId, v);
}

// ---------- gallery and trash ----------

// Coalesces bursts of events into at most one extra round-trip.
function refreshLists() {
  if (state.refreshing) { state.refreshAgain = true; return state.refreshing; }
  state.refreshing = (async () => {
    try {
      do {
        state.refreshAgain = false;
        const [pictures, trash] = await Promise.all([api('GET', userPath('/pictures')), api('GET', userPath('/trash'))]);
        render(asList(pictures), asList(trash));
      } while (state.refreshAgain);
    } finally {
      state.refreshing = null;
    }
  })();
  return state.refreshing;
}

function render(pictures, trash) {
  // Skip identical re-renders so a rename being typed is not wiped by an unrelated refresh.
  const key = JSON.stringify([pictures, trash]);
  if (key === state.lastRender) return;
  state.lastRender = key;

  ui.gallery.replaceChildren(...pictures.map(pictureCard));
  ui.galleryEmpty.hidden = pictures.length > 0;
  ui.trash.replaceChildren(...trash.map(trashCard));
  ui.trashEmpty.hidden = trash.length > 0;
  ui.emptyTrash.disabled = trash.length === 0;

  // Trashing/purging the active picture changes the avatar even if no ActivePictureChanged arrives.
  const activeId = pictures.find((p) => p.isActive)?.id ?? null;
  if (state.activeId !== undefined && activeId !== state.activeId) setMyAvatar(activeId ?? `none-${Date.now()}`);
  state.activeId = activeId;
}

const button = (testid, text, props = {}) => el('button', { type: 'button', ...props, dataset: { testid } }, text);

function pictureCard(p) {
  const titleId = `title-${p.id}`;
  return el('li', { className: `card${p.isActive ? ' active' : ''}`, dataset: { testid: 'picture', pictureId: p.id, active: String(!!p.isActive) } },
    el('img', { className: 'thumb', src: p.urls?.['128'] ?? `/pictures/${encodeURIComponent(p.id)}/128`, alt: `Picture ${p.title || p.id}`, width: 128, height: 128, loading: 'lazy' }),
    p.isActive && el('span', { className: 'badge' }, 'Active'),
    el('p', { className: 'meta' }, `${p.width}×${p.height} · ${fmtBytes(p.bytes)}`),
    el('form', { className: 'rename' },
      el('label', { htmlFor: titleId, className: 'visually-hidden' }, 'Title'),
      el('input', { id: titleId, name: 'title', type: 'text', value: p.title ?? '', placeholder: 'Untitled', maxLength: 200, dataset: { testid: 'rename-input' } }),
      el('button', { type: 'submit', dataset: { testid: 'rename' } }, 'Rename')),
    el('div', { className: 'actions' },
      button('activate', p.isActive ? 'Active' : 'Make active', { className: 'primary', disabled: !!p.isActive }),
      button('trash', 'Trash')));
}

// No thumbnail for trashed pictures: the service may not serve their renditions, and a 404 would be noise.
function trashCard(p) {
  return el('li', { className: 'card trashed', dataset: { testid: 'trashed-picture', pictureId: p.id } },
    el('p', { className: 'title' }, p.title || 'Untitled'),
    el('p', { className: 'meta' }, `${p.width}×${p.height} · ${fmtBytes(p.bytes)}`),
    el('p', { className: 'meta' }, `Trashed ${fmtDate(p.deletedAt)}`),
    el('p', { className: 'meta' }, `Purged after ${fmtDate(p.purgeAfter)}`),
    el('div', { className: 'actions' }, button('restore', 'Restore', { className: 'primary' }), button('purge', 'Purge', { className: 'danger' })));
}

// Card buttons are handled by delegation (keyed by data-testid), so re-rendering needs no re-wiring.
const CARD_ACTIONS = {
  activate: async (id) => { await api('PUT', userPath('/active-picture'), { pictureId: id }); setMyAvatar(id); },
  trash: (id) => api('DELETE', picPath('pictures', id)),
  restore: (id) => api('POST', `${picPath('trash', id)}/restore`),
  purge: (id) => api('DELETE', picPath('trash', id)),
};

// ---------- uploads and cropping ----------

async function handleFile(file) {
  if (!file) return;
  if (ui.cropToggle.checked) return startCrop(file);
  const form = new FormData();
  form.append('file', file);
  if (ui.title.value.trim()) form.append('title', ui.title.value.trim());
  const picture = await uploadWithProgress(userPath('/pictures?activate=true'), form);
  ui.title.value = '';
  setMyAvatar(picture?.id ?? Date.now());
  await refreshLists();
}

async function startCrop(file) {
  const form = new FormData();
  form.append('file', file);
  const upload = await uploadWithProgress('/api/uploads', form);
  // The preview is protected, so an <img src> cannot load it directly; fetch it as a blob instead.
  const res = await fetch(upload.previewUrl, { headers: { Authorization: `Bearer ${await getToken()}` } });
  if (!res.ok) throw problemFrom(res.status, res.statusText, await res.text());
  const blob = await res.blob();
  closeCrop();
  const size = Math.min(upload.width, upload.height);
  Object.assign(crop, {
    id: upload.id, url: URL.createObjectURL(blob), width: upload.width, height: upload.height,
    size, x: Math.floor((upload.width - size) / 2), y: Math.floor((upload.height - size) / 2),
  });
  ui.cropImage.src = crop.url;
  ui.cropSize.min = String(Math.min(16, size));
  ui.cropSize.max = String(size);
  ui.cropPanel.hidden = false;
  syncCrop();
  ui.cropPanel.scrollIntoView({ behavior: 'smooth', block: 'nearest' });
}

// Clamps the square into the image, then mirrors it to the sliders and the overlay.
function syncCrop() {
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, Math.round(v)));
  crop.size = clamp(crop.size, Number(ui.cropSize.min), Math.min(crop.width, crop.height));
  crop.x = clamp(crop.x, 0, crop.width - crop.size);
  crop.y = clamp(crop.y, 0, crop.height - crop.size);
  ui.cropX.max = String(crop.width - crop.size);
  ui.cropY.max = String(crop.height - crop.size);
  ui.cropX.value = String(crop.x);
  ui.cropY.value = String(crop.y);
  ui.cropSize.value = String(crop.size);
  Object.assign(ui.cropBox.style, {
    left: `${(crop.x / crop.width) * 100}%`, top: `${(crop.y / crop.height) * 100}%`,
    width: `${(crop.size / crop.width) * 100}%`, height: `${(crop.size / crop.height) * 100}%`,
  });
  ui.cropReadout.textContent = `${crop.size}×${crop.size} px at (${crop.x}, ${crop.y}) of ${crop.width}×${crop.height}`;
}

function closeCrop() {
  if (crop.url) URL.revokeObjectURL(crop.url);
  Object.assign(crop, { id: null, url: null, drag: null });
  ui.cropImage.removeAttribute('src');
  ui.cropPanel.hidden = true;
}

async function commitCrop() {
  if (!crop.id) return;
  const picture = await api('POST', `/api/uploads/${encodeURIComponent(crop.id)}/commit`, {
    activate: true, crop: { x: crop.x, y: crop.y, width: crop.size, height: crop.size },
  });
  closeCrop();
  setMyAvatar(picture?.id ?? Date.now());
  await refreshLists();
}

// ---------- real-time ----------

function setConnState(s) {
  ui.state.textContent = s; // exactly "connected", "reconnecting" or "disconnected"
  ui.state.dataset.state = s;
}

const isConnected = () => state.hub?.state === signalR.HubConnectionState.Connected;

function remember(seq) {
  state.seen.add(seq);
  if (seq > state.lastSeq) state.lastSeq = seq;
  if (state.seen.size > 1000) state.seen.delete(state.seen.values().next().value);
}

function onEvent(type, ev) {
  if (!ev) return;
  type = ev.type || type;
  const user = norm(ev.userId);
  if (user === norm(state.userId)) {
    const seq = Number(ev.seq);
    if (Number.isFinite(seq)) {
      if (state.seen.has(seq)) return;
      remember(seq);
    }
    if (AVATAR_EVENTS.has(type)) setMyAvatar(ev.seq);
    guard(refreshLists());
  }
  if (AVATAR_EVENTS.has(type) && state.watched.has(user)) setWatchedAvatar(user, ev.seq);
}

// Own events missed while offline; apply=false only establishes the starting seq at sign-in.
async function catchUp(apply) {
  try {
    for (let page = 0; page < 50; page++) {
      const events = asList(await api('GET', userPath(`/events?after=${state.lastSeq}&limit=${PAGE_SIZE}`)));
      for (const ev of events) {
        if (apply) onEvent(ev.type, ev);
        else if (Number.isFinite(Number(ev.seq))) remember(Number(ev.seq));
      }
      if (events.length < PAGE_SIZE) return;
    }
  } catch (err) {
    console.warn('Event catch-up failed; lists are refreshed anyway.', err);
  }
}

// After (re)connecting: the server forgets watches with the old connection, and we may have missed events.
async function resync(hub) {
  if (state.watched.size) await hub.invoke('Watch', [...state.watched.values()].map((w) => w.userId));
  // Watched users' event feeds are not ours to read, so simply re-fetch their avatars.
  for (const key of state.watched.keys()) setWatchedAvatar(key, `r${Date.now()}`);
  await catchUp(true);
  await refreshLists();
}

// Routes SignalR's own diagnostics to warnings: transient transport failures are expected and handled here.
const hubLogger = { log(level, message) { if (level >= signalR.LogLevel.Warning) console.warn(`[SignalR] ${message}`); } };

async function connectHub() {
  const hub = new signalR.HubConnectionBuilder()
    .withUrl('/hubs/pictures', { accessTokenFactory: () => getToken() })
    .withAutomaticReconnect()
    .configureLogging(hubLogger)
    .build();
  for (const type of EVENT_TYPES) hub.on(type, (ev) => onEvent(type, ev));
  hub.onreconnecting(() => { if (state.hub === hub) setConnState('reconnecting'); });
  hub.onreconnected(() => { if (state.hub === hub) { setConnState('connected'); guard(resync(hub)); } });
  hub.onclose(() => { if (state.hub === hub) setConnState('disconnected'); });
  state.hub = hub;

  // withAutomaticReconnect only covers drops after the first successful start, so retry that ourselves.
  for (let attempt = 0; ; attempt++) {
    try { await hub.start(); break; } catch (err) {
      if (state.hub !== hub) return;
      if (attempt >= 4) throw new ProblemError({ title: 'Real-time connection failed', detail: String(err?.message ?? err) });
      await sleep(1000 * 2 ** attempt);
    }
  }
  if (state.hub !== hub) return;
  setConnState('connected');
  await resync(hub);
}

async function signIn(userId) {
  if (!userId) throw new ProblemError({ title: 'User id required', detail: 'Enter a user id to sign in.' });
  if (!window.signalR) throw new ProblemError({ title: 'SignalR client missing', detail: 'signalr.min.js did not load.' });
  const old = state.hub;
  state.hub = null;
  setConnState('disconnected');
  if (old) await old.stop().catch(() => { /* already stopped */ });
  state.seen.clear();
  Object.assign(state, await fetchToken(userId), { userId, lastSeq: 0, activeId: undefined, lastRender: '' });
  ui.whoami.textContent = userId;
  ui.app.hidden = false;
  setMyAvatar(null);
  await Promise.all([refreshLists(), catchUp(false)]);
  await connectHub();
}

async function watch(userId) {
  if (!userId) throw new ProblemError({ title: 'User id required', detail: 'Enter the user id to watch.' });
  const key = norm(userId);
  if (state.watched.has(key)) return;
  const img = el('img', { className: 'avatar', src: avatarUrl(userId), alt: `Avatar of ${userId}`, width: 96, height: 96, dataset: { testid: 'watched-avatar', userId } });
  const item = el('li', { className: 'card watched' }, img, el('p', { className: 'title' }, userId),
    el('button', { type: 'button', 'aria-label': `Unwatch ${userId}`, dataset: { testid: 'unwatch' }, onclick: () => action(() => unwatch(key)) }, 'Unwatch'));
  state.watched.set(key, { userId, img, item });
  ui.watched.append(item);
  if (isConnected()) await state.hub.invoke('Watch', [userId]);
}

async function unwatch(key) {
  const entry = state.watched.get(key);
  if (!entry) return;
  state.watched.delete(key);
  entry.item.remove();
  if (isConnected()) await state.hub.invoke('Unwatch', [entry.userId]);
}

// ---------- wiring ----------

byId('signin-form').addEventListener('submit', (e) => { e.preventDefault(); action(() => signIn(ui.userId.value.trim())); });
byId('watch-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const userId = ui.watchInput.value.trim();
  ui.watchInput.value = '';
  action(() => watch(userId));
});
ui.upload.addEventListener('change', () => {
  const file = ui.upload.files?.[0];
  ui.upload.value = ''; // allows choosing the same file again
  action(() => handleFile(file));
});
for (const list of [ui.gallery, ui.trash]) {
  list.addEventListener('click', (e) => {
    const btn = e.target.closest('button[data-testid]');
    const run = CARD_ACTIONS[btn?.dataset.testid];
    const id = btn?.closest('[data-picture-id]')?.dataset.pictureId;
    if (run && id) action(async () => { await run(id); await refreshLists(); });
  });
}
ui.gallery.addEventListener('submit', (e) => {
  e.preventDefault();
  const id = e.target.closest('[data-picture-id]')?.dataset.pictureId;
  const title = e.target.elements.title.value.trim();
  if (id) action(async () => { await api('PATCH', picPath('pictures', id), { title }); await refreshLists(); });
});
ui.emptyTrash.addEventListener('click', () => action(async () => { await api('DELETE', userPath('/trash')); await refreshLists(); }));

for (const type of ['dragenter', 'dragover']) {
  ui.dropZone.addEventListener(type, (e) => { e.preventDefault(); ui.dropZone.classList.add('dragging'); });
}
ui.dropZone.addEventListener('dragleave', () => ui.dropZone.classList.remove('dragging'));
ui.dropZone.addEventListener('drop', (e) => {
  e.preventDefault();
  ui.dropZone.classList.remove('dragging');
  action(() => handleFile(e.dataTransfer?.files?.[0]));
});
// A drop that misses the zone would otherwise navigate away to the file.
for (const type of ['dragover', 'drop']) window.addEventListener(type, (e) => e.preventDefault());

for (const [prop, input] of [['x', ui.cropX], ['y', ui.cropY], ['size', ui.cropSize]]) {
  input.addEventListener('input', () => { crop[prop] = Number(input.value); syncCrop(); });
}
byId('crop-save').addEventListener('click', () => action(commitCrop));
byId('crop-cancel').addEventListener('click', closeCrop);

// Dragging the square moves it; pointer deltas are scaled from displayed to natural pixels.
ui.cropBox.addEventListener('pointerdown', (e) => {
  crop.drag = { px: e.clientX, py: e.clientY, x: crop.x, y: crop.y };
  ui.cropBox.setPointerCapture(e.pointerId);
});
ui.cropBox.addEventListener('pointermove', (e) => {
  if (!crop.drag || !ui.cropImage.clientWidth) return;
  const scale = crop.width / ui.cropImage.clientWidth;
  crop.x = crop.drag.x + (e.clientX - crop.drag.px) * scale;
  crop.y = crop.drag.y + (e.clientY - crop.drag.py) * scale;
  syncCrop();
});
for (const type of ['pointerup', 'pointercancel']) ui.cropBox.addEventListener(type, () => { crop.drag = null; });
