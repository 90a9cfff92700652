// Cross-check of /hubs/pictures with the real @microsoft/signalr client (what browsers use).
// Usage: BASE=http://127.0.0.1:5080 node hub-check.mjs   (the service must run in Development for /dev/token)
import { readFile } from 'node:fs/promises';
import { createHmac } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import * as signalR from '@microsoft/signalr';

const BASE = (process.env.BASE ?? 'http://127.0.0.1:5080').replace(/\/$/, '');
const PNG = fileURLToPath(new URL('../../images/default/default.png', import.meta.url));
const run = `${Date.now().toString(36)}`;
const alice = `node-alice-${run}`, bob = `node-bob-${run}`;
const failures = [];
const check = (ok, what) => { console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`); if (!ok) failures.push(what); };
setTimeout(() => { console.error('FAIL: timed out after 25 s'); process.exit(1); }, 25_000).unref();

async function token(userId) {
  const r = await fetch(`${BASE}/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId }) });
  if (!r.ok) throw new Error(`/dev/token: ${r.status}`);
  return (await r.json()).accessToken;
}

// A short-lived token signed with the development key (appsettings.Development.json), as /dev/token would.
async function shortToken(userId, seconds) {
  const settings = JSON.parse(await readFile(fileURLToPath(new URL('../../appsettings.Development.json', import.meta.url)), 'utf8'));
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: userId, aud: 'imagepictures', iss: 'imagepictures', iat: now, nbf: now - 5, exp: now + seconds })}`;
  return `${unsigned}.${createHmac('sha256', settings.Auth.SigningKey).update(unsigned).digest('base64url')}`;
}

async function api(tok, method, path, body) {
  const init = { method, headers: { authorization: `Bearer ${tok}` } };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) { init.body = JSON.stringify(body); init.headers['content-type'] = 'application/json'; }
  const r = await fetch(`${BASE}${path}`, init);
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
  return r.status === 204 ? null : r.json();
}

// Records every event per type and lets the test await the next one.
function connect(tok) {
  const connection = new signalR.HubConnectionBuilder()
    .withUrl(`${BASE}/hubs/pictures`, { accessTokenFactory: () => tok, transport: signalR.HttpTransportType.WebSockets })
    .configureLogging(signalR.LogLevel.None)
    .build();
  const seen = [];
  const waiters = [];
  for (const type of ['PictureUploaded', 'PictureUpdated', 'ActivePictureChanged', 'PictureTrashed', 'PictureRestored', 'PicturePurged', 'UserPicturesDeleted'])
    connection.on(type, (e) => { seen.push({ type, e }); waiters.filter((w) => w.type === type).forEach((w) => w.resolve(e)); });
  const next = (type, ms = 5000) => {
    const already = seen.find((s) => s.type === type && !s.taken);
    if (already) { already.taken = true; return Promise.resolve(already.e); }
    return new Promise((resolve, reject) => {
      const w = { type, resolve: (e) => { clearTimeout(t); waiters.splice(waiters.indexOf(w), 1); seen.find((s) => s.e === e).taken = true; resolve(e); } };
      const t = setTimeout(() => { waiters.splice(waiters.indexOf(w), 1); reject(new Error(`no ${type} within ${ms} ms`)); }, ms);
      waiters.push(w);
    });
  };
  return { connection, seen, next };
}

const [aliceToken, bobToken] = await Promise.all([token(alice), token(bob)]);

// Anonymous: refused.
try {
  const anon = new signalR.HubConnectionBuilder().withUrl(`${BASE}/hubs/pictures`).configureLogging(signalR.LogLevel.None).build();
  await anon.start();
  check(false, 'anonymous connection is refused');
  await anon.stop();
} catch (e) {
  check(/401/.test(String(e)), `anonymous connection is refused (${String(e).slice(0, 80)})`);
}

const a = connect(aliceToken), b = connect(bobToken);
await Promise.all([a.connection.start(), b.connection.start()]);
check(a.connection.state === 'Connected' && b.connection.state === 'Connected', 'both connected over WebSockets');
await b.connection.invoke('Watch', [alice]);
try { await b.connection.invoke('Watch', ['not valid!']); check(false, 'invalid watch id is a HubException'); }
catch (e) { check(/user id/.test(String(e)), 'invalid watch id is a HubException'); }

const form = new FormData();
form.append('file', new Blob([await readFile(PNG)], { type: 'application/octet-stream' }), 'default.png');
const picture = await api(aliceToken, 'POST', `/api/users/${alice}/pictures?activate=true`, form);

const uploaded = await a.next('PictureUploaded');
check(uploaded.pictureId === picture.id && uploaded.userId === alice && typeof uploaded.seq === 'number', 'owner hears PictureUploaded');
check(JSON.stringify(Object.keys(uploaded)) === JSON.stringify(['seq', 'type', 'userId', 'pictureId', 'occurredAt', 'picture']), 'event JSON has the contract\'s fields');
const changed = await a.next('ActivePictureChanged');
check(changed.picture?.isActive === true && changed.seq > uploaded.seq, 'owner hears ActivePictureChanged after it');
const watched = await b.next('ActivePictureChanged');
check(watched.pictureId === picture.id && watched.seq === changed.seq, 'watcher hears ActivePictureChanged');
await new Promise((r) => setTimeout(r, 500));
check(!b.seen.some((s) => s.type === 'PictureUploaded'), 'watcher does not hear PictureUploaded');

// Offline: a missed rename comes back through the events route.
await a.connection.stop();
await api(aliceToken, 'PATCH', `/api/users/${alice}/pictures/${picture.id}`, { title: 'while offline' });
await a.connection.start();
const missed = await api(aliceToken, 'GET', `/api/users/${alice}/events?after=${changed.seq}`);
check(missed.length === 1 && missed[0].type === 'PictureUpdated' && missed[0].picture.title === 'while offline', 'events route returns exactly the missed rename');

await b.connection.invoke('Unwatch', [alice]);
await api(aliceToken, 'DELETE', `/api/users/${alice}`);
const gone = await a.next('UserPicturesDeleted');
check(gone.picture === null && gone.pictureId === null, 'owner hears UserPicturesDeleted with picture null');
await new Promise((r) => setTimeout(r, 300));
check(!b.seen.some((s) => s.type === 'UserPicturesDeleted'), 'after Unwatch the watcher hears nothing');

// Token expiry: the server closes the connection; automatic reconnect comes back with a fresh token.
const short = await shortToken(`node-carol-${run}`, 3), fresh = await token(`node-carol-${run}`);
let started = false; // the factory is asked for negotiate and again for the socket: both get the short token
const carol = new signalR.HubConnectionBuilder()
  .withUrl(`${BASE}/hubs/pictures`, { accessTokenFactory: () => (started ? fresh : short), transport: signalR.HttpTransportType.WebSockets })
  .withAutomaticReconnect([0, 500, 1000]).configureLogging(signalR.LogLevel.None).build();
const reconnected = new Promise((resolve) => carol.onreconnected(() => resolve('reconnected')));
const closed = new Promise((resolve) => carol.onclose(() => resolve('closed')));
const connectedAt = Date.now();
await carol.start();
started = true;
const outcome = await Promise.race([reconnected, closed, new Promise((r) => setTimeout(() => r('still open'), 10_000))]);
console.log(`     expiring token: ${outcome} after ${((Date.now() - connectedAt) / 1000).toFixed(1)} s`);
check(outcome !== 'still open', 'an expiring token ends the connection');
check(outcome === 'reconnected', 'withAutomaticReconnect comes back with a fresh token');
await carol.stop();

await Promise.all([a.connection.stop(), b.connection.stop()]);
console.log(failures.length ? `${failures.length} check(s) failed` : 'all hub checks passed');
process.exit(failures.length ? 1 : 0);
