// <live-avatar user-id="alice" size="64" alt="Alice" base-url="https://pictures.example.com">
// <live-avatar email-hash="{md5 or sha256 hex}" size="64">: the avatar of /avatar/{hash}, live (email-hash wins over user-id).
// build.mjs wraps this file, after the SignalR browser client, in one function: `signalR` is that
// client, `scriptUrl` the address this script was loaded from. Nothing else leaks into the page.
'use strict';

const DEFAULT_SIZE = 64;
const HUB_PATH = '/hubs/pictures';
const RECONNECT_DELAYS = [0, 1000, 2000, 5000, 10000, 10000, 30000];
// The hub events a watcher hears: ImagePictures.Contracts' EventTypes.ForWatchers (JsEventNamesTests compares them).
const HUB_EVENTS = ['ActivePictureChanged', 'UserPicturesDeleted'];
// One version for the first load of this page: a cached answer from an earlier visit is never shown.
const PAGE_VERSION = Date.now().toString(36);
const reducedMotion = window.matchMedia ? window.matchMedia('(prefers-reduced-motion: reduce)') : { matches: true };

// SignalR reports a dropped connection as an error; it reconnects by itself, so that is no page error.
const quietLogger = {
  log(level, message) {
    if (level >= signalR.LogLevel.Warning && level < signalR.LogLevel.None) console.debug('[live-avatar] ' + message);
  },
};

/** One anonymous hub connection per service, shared by every element that shows one of its users. */
class AvatarHub {
  constructor(baseUrl) {
    this.baseUrl = baseUrl;
    this.elements = new Map(); // key ('u:' + userId or 'h:' + hash) -> Set of elements
    this.toWatch = new Set();
    this.toUnwatch = new Set();
    this.flushQueued = false;
    this.connection = new signalR.HubConnectionBuilder()
      .withUrl(baseUrl + HUB_PATH, { withCredentials: false })
      .withAutomaticReconnect(RECONNECT_DELAYS)
      .configureLogging(quietLogger)
      .build();
    for (const name of HUB_EVENTS) this.connection.on(name, (e) => this.dispatch(e));
    this.connection.onreconnected(() => this.resync());
    // Automatic reconnection gave up (a long outage): keep trying, slowly.
    this.connection.onclose(() => { if (this.elements.size > 0) setTimeout(() => this.start(), 30000); });
    this.starting = null;
    this.connected = false; // set after the first connect: later connects are reconnects, which reload
  }

  add(element, key) {
    let set = this.elements.get(key);
    if (!set) {
      set = new Set();
      this.elements.set(key, set);
      if (!this.toUnwatch.delete(key)) this.toWatch.add(key);
    }
    set.add(element);
    this.queueFlush();
  }

  remove(element, key) {
    const set = this.elements.get(key);
    if (!set || !set.delete(element)) return;
    if (set.size > 0) return;
    this.elements.delete(key);
    if (!this.toWatch.delete(key)) this.toUnwatch.add(key);
    this.queueFlush();
  }

  // Elements of one page connect in the same task: one Watch call for all of them.
  queueFlush() {
    if (this.flushQueued) return;
    this.flushQueued = true;
    setTimeout(() => { this.flushQueued = false; this.flush(); }, 0);
  }

  async start() {
    if (this.connection.state !== signalR.HubConnectionState.Disconnected) return;
    if (!this.starting) {
      this.starting = this.connection.start()
        .then(() => this.resync(), () => setTimeout(() => this.start(), 5000))
        .finally(() => { this.starting = null; });
    }
    await this.starting;
  }

  async flush() {
    if (this.connection.state !== signalR.HubConnectionState.Connected) {
      await this.start(); // watches everything current once connected
      return;
    }
    const watch = [...this.toWatch], unwatch = [...this.toUnwatch];
    this.toWatch.clear();
    this.toUnwatch.clear();
    try {
      await this.invokeFor('Unwatch', unwatch);
      await this.invokeFor('Watch', watch);
    } catch (error) {
      // Dropped mid-call: resync after the reconnect watches everything again. A refusal (too many users) stays refused.
      console.debug('[live-avatar] ' + error);
    }
  }

  // After (re)connecting: watch every user shown, and reload, since changes may have been missed.
  async resync() {
    this.toWatch.clear();
    this.toUnwatch.clear();
    try {
      await this.invokeFor('Watch', [...this.elements.keys()]);
    } catch (error) {
      console.debug('[live-avatar] ' + error);
    }
    if (this.connected) {
      const version = 'r' + Date.now().toString(36);
      for (const set of this.elements.values()) for (const element of set) element.showVersion(version, null);
    }
    this.connected = true;
  }

  // Watch/Unwatch for the user ids among these keys, WatchHashes/UnwatchHashes for the hashes (a user id may look like a hash).
  async invokeFor(method, keys) {
    const users = keys.filter((k) => k.startsWith('u:')).map((k) => k.slice(2));
    const hashes = keys.filter((k) => k.startsWith('h:')).map((k) => k.slice(2));
    if (users.length > 0) await this.connection.invoke(method, users);
    if (hashes.length > 0) await this.connection.invoke(method + 'Hashes', hashes);
  }

  dispatch(e) {
    // A hash watcher's events carry the hash as userId.
    for (const key of ['u:' + e.userId, 'h:' + e.userId]) this.dispatchTo(this.elements.get(key), e);
  }

  dispatchTo(set, e) {
    if (!set) return;
    const picture = e.type === 'UserPicturesDeleted' ? null : e.picture;
    // The content hash names the picture: the same picture has the same address on every page.
    const version = picture ? picture.contentHash.slice(0, 16) : 'd' + e.seq;
    for (const element of set) element.showVersion(version, picture, e);
  }
}

const hubs = new Map(); // base URL -> AvatarHub

function hubFor(baseUrl) {
  let hub = hubs.get(baseUrl);
  if (!hub) {
    hub = new AvatarHub(baseUrl);
    hubs.set(baseUrl, hub);
  }
  return hub;
}

const scriptOrigin = scriptUrl ? new URL(scriptUrl, location.href).origin : location.origin;
const warnedBases = new Set();

/**
 * The base-url attribute as an http(s) address without trailing slashes, or null: only http: and
 * https: may become an image's src or the hub's address, so anything else (javascript:, data:, a
 * malformed URL) is ignored with one console warning per value, and the script's origin is used.
 */
function httpBase(value) {
  let url = null;
  try { url = new URL(value, location.href); } catch { /* warned below */ }
  if (url && (url.protocol === 'http:' || url.protocol === 'https:')) return url.href.replace(/\/+$/, '');
  if (!warnedBases.has(value)) {
    warnedBases.add(value);
    console.warn(`[live-avatar] base-url ignored: only http: and https: addresses are used; using ${scriptOrigin} instead of "${value}"`);
  }
  return null;
}

class LiveAvatarElement extends HTMLElement {
  static get observedAttributes() { return ['user-id', 'email-hash', 'size', 'alt', 'base-url']; }

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    const style = document.createElement('style');
    style.textContent = ':host{display:inline-block;line-height:0}img{display:block;border-radius:inherit;object-fit:cover}';
    this.img = document.createElement('img');
    this.img.setAttribute('part', 'img');
    this.img.decoding = 'async';
    root.append(style, this.img);
    this.version = PAGE_VERSION;
    this.swap = 0;
    this.registered = null; // { hub, key } while watched
  }

  get userId() { return this.getAttribute('user-id') || ''; }
  /** The e-mail hash, lower case, when email-hash holds 32 or 64 hex digits; anything else is ignored. */
  get emailHash() {
    const hash = (this.getAttribute('email-hash') || '').trim().toLowerCase();
    return /^([0-9a-f]{32}|[0-9a-f]{64})$/.test(hash) ? hash : '';
  }
  get key() { return this.emailHash ? 'h:' + this.emailHash : this.userId ? 'u:' + this.userId : ''; }
  get size() {
    const n = parseInt(this.getAttribute('size'), 10);
    return n > 0 ? n : DEFAULT_SIZE;
  }
  get baseUrl() {
    const base = this.getAttribute('base-url');
    return (base && httpBase(base)) || scriptOrigin;
  }

  connectedCallback() { this.render(); this.register(); }
  disconnectedCallback() { this.unregister(); }

  attributeChangedCallback(name, oldValue, newValue) {
    if (oldValue === newValue || !this.isConnected) return;
    if (name === 'user-id' || name === 'email-hash' || name === 'base-url') {
      this.unregister();
      this.version = PAGE_VERSION;
      this.register();
    }
    this.render();
  }

  register() {
    const key = this.key;
    if (!key) return;
    const hub = hubFor(this.baseUrl);
    this.registered = { hub, key };
    hub.add(this, key);
  }

  unregister() {
    if (!this.registered) return;
    this.registered.hub.remove(this, this.registered.key);
    this.registered = null;
  }

  src(version) {
    if (this.emailHash) return `${this.baseUrl}/avatar/${this.emailHash}?s=${this.size}&v=${encodeURIComponent(version)}`;
    return `${this.baseUrl}/avatars/${encodeURIComponent(this.userId)}?size=${this.size}&v=${encodeURIComponent(version)}`;
  }

  render() {
    this.img.width = this.size;
    this.img.height = this.size;
    this.img.alt = this.getAttribute('alt') || '';
    if (this.key) this.img.src = this.src(this.version);
  }

  /** Loads the new version off-screen and shows it only once it has loaded: never a broken image. */
  showVersion(version, picture, event) {
    const swap = ++this.swap;
    const next = new Image();
    next.decoding = 'async';
    const url = this.src(version);
    const show = () => {
      if (swap !== this.swap) return; // a newer change overtook this one
      this.version = version;
      this.img.src = url;
      if (!reducedMotion.matches && this.img.animate) {
        this.img.animate([{ opacity: 0.4 }, { opacity: 1 }], { duration: 200, easing: 'ease-out' });
      }
      if (event) this.dispatchEvent(new CustomEvent('change', { bubbles: true, detail: { userId: this.emailHash || this.userId, picture, event } }));
    };
    next.onload = () => (next.decode ? next.decode().catch(() => {}) : Promise.resolve()).then(show);
    next.onerror = () => {}; // keep showing the current one
    next.src = url;
  }
}

if (!customElements.get('live-avatar')) customElements.define('live-avatar', LiveAvatarElement);
