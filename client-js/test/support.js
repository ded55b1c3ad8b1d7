// Shared by the tests: fresh user ids, a client that records what it got, waiting, and a TCP
// proxy whose connections a test can cut, to make a client reconnect over a real network drop.
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { HomingClient } from '../src/index.js';
import { sendApi } from '../dev/send-api.js';
import { signToken } from '../dev/tokens.js';

export const EDGE_1 = 'ws://127.0.0.1:7410/ws';
export const EDGE_2 = 'ws://127.0.0.1:7411/ws';

let sendClient;

/** The Send API client, made on first use (its channel would keep a test file's process alive). */
export function api() {
  sendClient ??= sendApi();
  return sendClient;
}

export function closeApi() {
  sendClient?.close();
}

export const freshUser = (name) => `js-${name}-${randomUUID().slice(0, 8)}`;

export async function waitFor(what, predicate, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export const text = (message) => new TextDecoder().decode(message.payload);

/** Starts a client for `user` that records messages ({seq, text}), states and errors. */
export function recordingClient({ user, device = 'js', onMessage, ...options }) {
  const got = [];
  const states = [];
  const errors = [];
  const client = new HomingClient({
    urls: [EDGE_1],
    token: signToken({ user, device }),
    backoff: { min: 50, max: 500 },
    onMessage: async (seq, message) => {
      await onMessage?.(seq, message);
      got.push({ seq, text: text(message) });
    },
    onState: (state, info) => states.push({ state, ...info }),
    onError: (error) => errors.push(error),
    ...options,
  }).start();
  return { client, got, states, errors, seqs: () => got.map((m) => m.seq) };
}

export async function sendTexts(user, texts) {
  for (const t of texts) {
    await api().send(user, t);
  }
}

/** Forwards 127.0.0.1:<port> to `target`; cut() drops every connection through it. */
export async function cuttableProxy(targetPort) {
  const sockets = new Set();
  const server = net.createServer((inbound) => {
    const outbound = net.connect(targetPort, '127.0.0.1');
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `ws://127.0.0.1:${server.address().port}/ws`,
    cut: () => sockets.forEach((socket) => socket.destroy()),
    close: () => {
      sockets.forEach((socket) => socket.destroy());
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
