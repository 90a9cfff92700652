#!/usr/bin/env node
// Fan-out latency, the service against a bare SignalR hub, in one run: N watchers (@microsoft/signalr
// clients, spread over several processes) watch one user on each side. Rounds alternate between the
// two sides, so that both meet the same moments of a shared, noisy machine. Each round changes the
// user's avatar once and measures, for every watcher, the time from just before the request to the
// receipt of ActivePictureChanged.
//
//   node fanout.js --ours http://127.0.0.1:5080 --bare http://127.0.0.1:5090 --n 1000 --rounds 20 \
//        --target bench-fan --token <owner token> --watcher-token <token> --a <pictureId> --b <pictureId> \
//        --picture-a <file> --picture-b <file>
//
// Service ("ours"): PUT /api/users/{target}/active-picture, alternating between pictures a and b.
// BareHub ("bare"): POST /broadcast/{target}?count=1 (same hub path and event name), with the service's
// JSON of picture a or b (files from GET /api/users/{target}/pictures/{id}) as the event's picture.
// Times come from process.hrtime (CLOCK_MONOTONIC), which all processes on the machine share.
// Prints one line: RESULT ours_p50_ms=… ours_p99_ms=… bare_p50_ms=… bare_p99_ms=… … delivered/expected per side.
// FANOUT_ROUNDS=1 also prints each round's min/median/max to stderr (a slow round shows up there).
'use strict';
const { fork } = require('node:child_process');
const fs = require('node:fs');
const signalR = require('@microsoft/signalr');

const SIDES = ['ours', 'bare'];

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

// ------------------------------------------------------------------ worker: holds connections to both sides
async function worker(opts) {
  const count = Number(opts.count);
  const target = opts.target;
  let current = null; // { side, round } being measured
  const receipts = { ours: [], bare: [] }; // receipts[side][round] = µs timestamps
  const connections = [];

  const handler = (side) => (e) => {
    if (!e || e.userId !== target || !current || current.side !== side) return;
    const list = (receipts[side][current.round] ||= []);
    list.push(nowUs());
    if (list.length === count) process.send({ type: 'round-done', key: `${side}:${current.round}` });
  };

  async function open(side) {
    const options = { skipNegotiation: true, transport: signalR.HttpTransportType.WebSockets };
    if (side === 'ours') options.accessTokenFactory = () => opts['watcher-token'];
    const c = new signalR.HubConnectionBuilder()
      .withUrl(opts[side] + '/hubs/pictures', options)
      .configureLogging(signalR.LogLevel.None)
      .build();
    c.serverTimeoutInMilliseconds = 120000;
    c.on('ActivePictureChanged', handler(side));
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
  const jobs = SIDES.flatMap((side) => Array.from({ length: count }, () => side));
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(32, jobs.length) }, async () => {
    while (next < jobs.length) await open(jobs[next++]);
  }));
  process.send({ type: 'ready' });

  process.on('message', async (msg) => {
    if (msg.type === 'round') {
      current = { side: msg.side, round: msg.round };
      process.send({ type: 'round-ack', key: `${msg.side}:${msg.round}` });
    } else if (msg.type === 'finish') {
      current = null;
      // Exit only once the result has reached the coordinator: process.exit drops unsent IPC messages.
      await new Promise((resolve) => process.send({ type: 'result', receipts }, resolve));
      await Promise.allSettled(connections.map((c) => c.stop()));
      process.exit(0);
    }
  });
}

// ------------------------------------------------------------------ coordinator
async function coordinator(opts) {
  const n = Number(opts.n);
  const rounds = Number(opts.rounds || 20);
  const warmup = Number(opts['warmup-rounds'] ?? 5); // unmeasured: a fresh server still compiles its hot paths
  const perProc = Number(opts['per-process'] || 500);
  const procs = Math.max(1, Math.ceil(n / perProc));
  const target = opts.target;
  const roundTimeoutMs = Number(opts['round-timeout-ms'] || 30000);
  const pictures = { a: fs.readFileSync(opts['picture-a'], 'utf8'), b: fs.readFileSync(opts['picture-b'], 'utf8') };

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
    const args = ['--worker', '--ours', opts.ours, '--bare', opts.bare, '--count', String(count), '--target', target,
      '--watcher-token', opts['watcher-token']];
    const child = fork(__filename, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.on('message', (msg) => {
      if (msg.type === 'ready') hit('ready');
      else if (msg.type === 'round-ack') hit('ack:' + msg.key);
      else if (msg.type === 'round-done') hit('done:' + msg.key);
      else if (msg.type === 'result') { results.push(msg); hit('result'); }
    });
    child.on('exit', (code) => { if (code) { console.error(`fanout: worker ${i} exited with ${code}`); process.exitCode = 1; } });
    children.push(child);
  }
  const timeout = (ms) => new Promise((r) => setTimeout(() => r(false), ms));
  if (!await Promise.race([ready, timeout(600000)])) throw new Error('watchers did not connect within 10 minutes');
  const connectSeconds = (Date.now() - started) / 1000;

  const send = async (side, k) => {
    const which = k % 2 === 0 ? 'b' : 'a'; // a is active at the start
    const res = side === 'ours'
      ? await fetch(`${opts.ours}/api/users/${target}/active-picture`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${opts.token}` },
        body: JSON.stringify({ pictureId: opts[which] }),
      })
      : await fetch(`${opts.bare}/broadcast/${target}?count=1&pictureId=${opts[which]}`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: pictures[which],
      });
    if (res.status !== 200) throw new Error(`${side} round ${k}: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  };

  const t0 = { ours: [], bare: [] };
  const timeouts = { ours: 0, bare: 0 };
  for (let k = 0; k < warmup + rounds; k++) {
    // The side that goes first alternates too, so neither always follows the other's burst.
    for (const side of k % 2 === 0 ? SIDES : [...SIDES].reverse()) {
      const key = `${side}:${k}`;
      const acked = expect('ack:' + key, procs);
      for (const c of children) c.send({ type: 'round', side, round: k });
      await acked;
      const done = expect('done:' + key, procs);
      t0[side][k] = nowUs();
      await send(side, k);
      if (!await Promise.race([done, timeout(roundTimeoutMs)])) { timeouts[side]++; waiters.delete('done:' + key); }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  for (const c of children) c.send({ type: 'finish' });
  await Promise.race([finished, timeout(60000)]);

  const f = (x) => Number.isFinite(x) ? x.toFixed(1) : 'nan';
  const fields = [];
  for (const side of SIDES) {
    const latencies = [];
    for (const r of results) {
      for (let k = warmup; k < warmup + rounds; k++) {
        for (const t of r.receipts[side][k] || []) latencies.push((t - t0[side][k]) / 1000);
      }
    }
    latencies.sort((x, y) => x - y);
    if (process.env.FANOUT_ROUNDS) {
      for (let k = warmup; k < warmup + rounds; k++) {
        const l = results.flatMap((r) => (r.receipts[side][k] || []).map((t) => (t - t0[side][k]) / 1000)).sort((x, y) => x - y);
        console.error(`fanout: ${side} round ${k}: min ${f(l[0])} median ${f(l[l.length >> 1])} max ${f(l[l.length - 1])}`);
      }
    }
    const pct = (p) => latencies.length ? latencies[Math.min(latencies.length - 1, Math.max(0, Math.ceil(p * latencies.length) - 1))] : NaN;
    fields.push(`${side}_p50_ms=${f(pct(0.5))}`, `${side}_p99_ms=${f(pct(0.99))}`, `${side}_max_ms=${f(latencies[latencies.length - 1])}`,
      `${side}_delivered=${latencies.length}`, `${side}_round_timeouts=${timeouts[side]}`);
  }
  console.log(`RESULT ${fields.join(' ')} expected=${n * rounds} connect_s=${connectSeconds.toFixed(1)} procs=${procs}`);
  process.exit(process.exitCode || 0);
}

const opts = parseArgs(process.argv.slice(2));
(opts.worker ? worker(opts) : coordinator(opts)).catch((err) => {
  console.error('fanout: ' + (err && err.stack || err));
  process.exit(1);
});
