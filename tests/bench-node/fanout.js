#!/usr/bin/env node
// Fan-out latency: N watchers (@microsoft/signalr clients, spread over several processes) watch one
// user; the coordinator changes that user's avatar R times and measures, for every watcher, the time
// from just before the request to the receipt of ActivePictureChanged.
//
//   node fanout.js --mode ours --url http://127.0.0.1:5080 --n 1000 --rounds 20 \
//        --target bench-fan --token <owner token> --a <pictureId> --b <pictureId> --watcher-token <token>
//   node fanout.js --mode bare --url http://127.0.0.1:5090 --n 1000 --rounds 20 --target bench-fan \
//        --picture-a <file> --picture-b <file>
//
// Mode "ours": PUT /api/users/{target}/active-picture alternating between pictures a and b.
// Mode "bare": POST /broadcast/{target}?count=1 on tests/BareHub (same hub path and event name), with the
// service's JSON of picture a or b (files from GET /api/users/{target}/pictures/{id}) as the event's picture.
// Times come from process.hrtime (CLOCK_MONOTONIC), which all processes on the machine share.
// Prints one line: RESULT p50_ms=… p99_ms=… max_ms=… delivered=… expected=… connect_s=…
'use strict';
const { fork } = require('node:child_process');
const signalR = require('@microsoft/signalr');

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith('--')) {
      const key = argv[i].slice(2);
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) out[key] = true;
      else { out[key] = next; i++; }
    }
  }
  return out;
}

const nowUs = () => Number(process.hrtime.bigint() / 1000n);

// ------------------------------------------------------------------ worker: holds connections
async function worker(opts) {
  const count = Number(opts.count);
  const target = opts.target;
  const token = opts['watcher-token'] || '';
  let round = -1;
  const receipts = []; // receipts[round] = array of µs timestamps
  let received = 0;
  const connections = [];

  const onEvent = (e) => {
    if (!e || e.userId !== target || round < 0) return;
    const t = nowUs();
    (receipts[round] ||= []).push(t);
    received++;
    if (receipts[round].length === count) process.send({ type: 'round-done', round });
  };

  async function open() {
    const options = { skipNegotiation: true, transport: signalR.HttpTransportType.WebSockets };
    if (token) options.accessTokenFactory = () => token;
    const c = new signalR.HubConnectionBuilder()
      .withUrl(opts.url + '/hubs/pictures', options)
      .configureLogging(signalR.LogLevel.None)
      .build();
    c.serverTimeoutInMilliseconds = 120000;
    c.on('ActivePictureChanged', onEvent);
    for (let attempt = 1; ; attempt++) {
      try {
        await c.start();
        break;
      } catch (err) {
        if (attempt >= 5) throw err;
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
    await c.invoke('Watch', [target]);
    connections.push(c);
  }

  // Open connections with a bounded number of handshakes in flight.
  let next = 0;
  const inflight = 32;
  await Promise.all(Array.from({ length: Math.min(inflight, count) }, async () => {
    while (next < count) { next++; await open(); }
  }));
  process.send({ type: 'ready', connections: connections.length });

  process.on('message', async (msg) => {
    if (msg.type === 'round') {
      round = msg.round;
      process.send({ type: 'round-ack', round });
    } else if (msg.type === 'finish') {
      round = -1;
      process.send({ type: 'result', receipts, received });
      await Promise.allSettled(connections.map((c) => c.stop()));
      process.exit(0);
    }
  });
}

// ------------------------------------------------------------------ coordinator
async function coordinator(opts) {
  const n = Number(opts.n);
  const rounds = Number(opts.rounds || 20);
  const perProc = Number(opts['per-process'] || 2500);
  const procs = Math.max(1, Math.ceil(n / perProc));
  const mode = opts.mode;
  const url = opts.url;
  const target = opts.target;
  const roundTimeoutMs = Number(opts['round-timeout-ms'] || 30000);
  const readPicture = (file) => require('node:fs').readFileSync(file, 'utf8');
  const pictureA = mode === 'bare' ? readPicture(opts['picture-a']) : null;
  const pictureB = mode === 'bare' ? readPicture(opts['picture-b']) : null;

  const children = [];
  const waiters = new Map(); // key -> {need, got, resolve}
  const results = [];
  const expect = (key, need) => new Promise((resolve) => waiters.set(key, { need, got: 0, resolve }));
  const hit = (key) => {
    const w = waiters.get(key);
    if (w && ++w.got === w.need) { waiters.delete(key); w.resolve(true); }
  };

  const started = Date.now();
  const ready = expect('ready', procs);
  const finished = expect('result', procs);
  for (let i = 0; i < procs; i++) {
    const count = Math.floor(n / procs) + (i < n % procs ? 1 : 0);
    const args = ['--worker', '--url', url, '--count', String(count), '--target', target];
    if (opts['watcher-token']) args.push('--watcher-token', opts['watcher-token']);
    const child = fork(__filename, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.on('message', (msg) => {
      if (msg.type === 'ready') hit('ready');
      else if (msg.type === 'round-ack') hit('ack:' + msg.round);
      else if (msg.type === 'round-done') hit('done:' + msg.round);
      else if (msg.type === 'result') { results.push(msg); hit('result'); }
    });
    child.on('exit', (code) => { if (code) { console.error(`fanout: worker ${i} exited with ${code}`); process.exitCode = 1; } });
    children.push(child);
  }
  const timeout = (ms) => new Promise((r) => setTimeout(() => r(false), ms));
  if (!await Promise.race([ready, timeout(600000)])) throw new Error('watchers did not connect within 10 minutes');
  const connectSeconds = (Date.now() - started) / 1000;

  const send = async (k) => {
    if (mode === 'ours') {
      const pictureId = k % 2 === 0 ? opts.b : opts.a; // a is active at the start
      const res = await fetch(`${url}/api/users/${target}/active-picture`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${opts.token}` },
        body: JSON.stringify({ pictureId }),
      });
      if (res.status !== 200) throw new Error(`PUT active-picture: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    } else {
      const picture = k % 2 === 0 ? pictureB : pictureA;
      const res = await fetch(`${url}/broadcast/${target}?count=1&pictureId=${JSON.parse(picture).id}`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: picture,
      });
      if (res.status !== 200) throw new Error(`POST broadcast: ${res.status}`);
      await res.arrayBuffer();
    }
  };

  // One unmeasured warm-up round, then the measured ones.
  const t0 = [];
  let timeouts = 0;
  for (let k = 0; k <= rounds; k++) {
    const acked = expect('ack:' + k, procs);
    for (const c of children) c.send({ type: 'round', round: k });
    await acked;
    const done = expect('done:' + k, procs);
    t0[k] = nowUs();
    await send(k);
    if (!await Promise.race([done, timeout(roundTimeoutMs)])) { timeouts++; waiters.delete('done:' + k); }
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const c of children) c.send({ type: 'finish' });
  await Promise.race([finished, timeout(60000)]);

  const latencies = [];
  let delivered = 0;
  for (const r of results) {
    for (let k = 1; k <= rounds; k++) {
      for (const t of r.receipts[k] || []) { latencies.push((t - t0[k]) / 1000); delivered++; }
    }
  }
  latencies.sort((x, y) => x - y);
  const pct = (p) => latencies.length ? latencies[Math.min(latencies.length - 1, Math.max(0, Math.ceil(p * latencies.length) - 1))] : NaN;
  const f = (x) => Number.isFinite(x) ? x.toFixed(1) : 'nan';
  console.log(`RESULT p50_ms=${f(pct(0.5))} p99_ms=${f(pct(0.99))} max_ms=${f(latencies[latencies.length - 1])} delivered=${delivered} expected=${n * rounds} connect_s=${connectSeconds.toFixed(1)} procs=${procs} round_timeouts=${timeouts}`);
  process.exit(process.exitCode || 0);
}

const opts = parseArgs(process.argv.slice(2));
(opts.worker ? worker(opts) : coordinator(opts)).catch((err) => {
  console.error('fanout: ' + (err && err.stack || err));
  process.exit(1);
});
