// The client's protocol rules against a scripted edge (a `ws` server in this process) — what the
// real stack cannot be made to do on demand: gaps, stream resets, Error frames and close codes.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { WebSocketServer } from 'ws';
import { HomingClient, backoffMillis, judgeEnd } from '../src/index.js';
import { waitFor } from './support.js';

const open = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((resource) => resource.close()));
});

/** An edge that runs `script(socket, auth, n)` for the n-th connection (0 first) after its Auth. */
async function scriptedEdge(script) {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => server.on('listening', resolve));
  const auths = [];
  server.on('connection', (socket) => {
    socket.once('message', (data) => {
      const auth = JSON.parse(data.toString()).auth;
      auths.push(auth);
      const frames = [];
      socket.on('message', (frame) => frames.push(JSON.parse(frame.toString())));
      script({ send: (frame) => socket.send(JSON.stringify(frame)), socket, frames }, auth, auths.length - 1);
    });
  });
  const edge = {
    url: `ws://127.0.0.1:${server.address().port}/ws`,
    auths,
    close: () => new Promise((resolve) => {
      server.clients.forEach((c) => c.terminate());
      server.close(resolve);
    }),
  };
  open.push(edge);
  return edge;
}

const authOk = (fields = {}) => ({ authOk: { userId: 'u', deviceId: 'd', nodeId: 'fake', heartbeatSeconds: 30, ...fields } });
const push = (seq, prevSeq) => ({ push: { seq: String(seq), prevSeq: String(prevSeq), message: { payload: btoa(`m${seq}`) } } });

function startClient(url, options = {}) {
  const got = [];
  const errors = [];
  const client = new HomingClient({
    urls: [url],
    token: 't',
    backoff: { min: 10, max: 20 },
    onMessage: (seq) => got.push(seq),
    onError: (e) => errors.push(e.code),
    ...options,
  }).start();
  open.push(client);
  return { client, got, errors };
}

describe('against a scripted edge', { timeout: 20_000 }, () => {
  test('a gap closes the connection and the next one resumes after the last delivered', async () => {
    const edge = await scriptedEdge((c, auth, n) => {
      c.send(authOk());
      if (n === 0) {
        c.send(push(1, 0));
        c.send(push(3, 2)); // 2 never came
      } else {
        c.send(push(2, 1));
        c.send(push(3, 2));
      }
    });
    const r = startClient(edge.url);
    await waitFor('3 messages', () => r.got.length === 3);
    assert.deepEqual(r.got, [1, 2, 3]);
    assert.equal(edge.auths[1].lastSeq, '1');
    assert.deepEqual(r.errors, ['GAP']);
  });

  test('a hole announced by prev_seq is no gap', async () => {
    const edge = await scriptedEdge((c) => {
      c.send(authOk());
      c.send(push(1, 0));
      c.send(push(4, 1));
    });
    const r = startClient(edge.url);
    await waitFor('2 messages', () => r.got.length === 2);
    assert.deepEqual(r.got, [1, 4]);
    assert.equal(r.client.sessions, 1);
  });

  test('resent seqs at or below the last delivered are dropped, the rest acked', async () => {
    let connection;
    const edge = await scriptedEdge((c) => {
      connection = c;
      c.send(authOk({ lastSeq: '6', resumeAfter: '4' }));
      [push(4, 3), push(5, 4), push(4, 3), push(5, 4), push(6, 5)].forEach((f) => c.send(f));
    });
    const r = startClient(edge.url, { lastSeq: 4 });
    await waitFor('2 messages', () => r.got.length === 2);
    await waitFor('2 acks', () => connection.frames.length === 2);
    assert.deepEqual(r.got, [5, 6]);
    assert.deepEqual(connection.frames, [{ ack: { seq: '5' } }, { ack: { seq: '6' } }]);
  });

  test('another stream epoch than the stored one delivers from seq 1 again', async () => {
    const edge = await scriptedEdge((c) => {
      c.send(authOk({ lastSeq: '1', streamEpoch: '18446744073709551615', resumeAfter: '0' }));
      c.send(push(1, 0));
    });
    const r = startClient(edge.url, { lastSeq: 9, streamEpoch: '5' });
    await waitFor('1 message', () => r.got.length === 1);
    assert.deepEqual(r.got, [1]);
    assert.equal(r.client.streamEpoch, '18446744073709551615');
    assert.deepEqual(edge.auths[0], { token: 't', lastSeq: '9', streamEpoch: '5' });
  });

  test('a server behind the client sets lastDelivered back to resumeAfter', async () => {
    const edge = await scriptedEdge((c) => {
      c.send(authOk({ lastSeq: '3', streamEpoch: '5', resumeAfter: '3' }));
      c.send(push(4, 3));
    });
    const r = startClient(edge.url, { lastSeq: 9, streamEpoch: '5' });
    await waitFor('1 message', () => r.got.length === 1);
    assert.deepEqual(r.got, [4]);
    assert.equal(r.client.lastDelivered, 4);
  });

  for (const [what, script, expectStop, code] of [
    ['Error REPLACED stops', (c) => { c.send({ error: { code: 'REPLACED' } }); c.socket.close(1000); }, true, 'REPLACED'],
    ['close code 4004 stops', (c) => c.socket.close(4004), true, 'REPLACED'],
    ['close code 4101 stops', (c) => c.socket.close(4101), true, 'INVALID_TOKEN'],
    ['Error SHUTTING_DOWN reconnects', (c) => { c.send({ error: { code: 'SHUTTING_DOWN' } }); c.socket.close(4006); }, false, 'SHUTTING_DOWN'],
    ['close code 4007 reconnects', (c) => c.socket.close(4007), false, 'ACK_TIMEOUT'],
  ]) {
    test(what, async () => {
      const edge = await scriptedEdge((c, auth, n) => (n === 0 ? script(c) : c.send(authOk())));
      const r = startClient(edge.url);
      await waitFor('an error', () => r.errors.length === 1);
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(r.errors[0], code);
      assert.equal(r.client.state, expectStop ? 'closed' : 'open');
      assert.equal(edge.auths.length, expectStop ? 1 : 2);
      await r.client.close();
      await edge.close();
    });
  }

  test('pings every heartbeat_seconds', async () => {
    let connection;
    const edge = await scriptedEdge((c) => {
      connection = c;
      c.send(authOk({ heartbeatSeconds: 1 }));
    });
    const r = startClient(edge.url);
    await waitFor('2 pings', () => connection?.frames.length === 2, 3500);
    assert.deepEqual(connection.frames, [{ ping: { nonce: '1' } }, { ping: { nonce: '2' } }]);
  });
});

describe('rules', () => {
  test('judgeEnd: the frame wins over the close code; a token function is asked again', () => {
    assert.deepEqual(judgeEnd({ error: { code: 'IDLE_TIMEOUT', message: 'm' }, closeCode: 4004 }),
      { stop: false, code: 'IDLE_TIMEOUT', message: 'm' });
    assert.equal(judgeEnd({ closeCode: 4101, tokenIsFunction: true }).stop, false);
    assert.equal(judgeEnd({ closeCode: 4102 }).code, 'EXPIRED_TOKEN');
    assert.equal(judgeEnd({ closeCode: 1006 }).code, null);
  });

  test('backoffMillis: between min and a cap doubling per attempt up to max', () => {
    assert.equal(backoffMillis(0, { min: 100, max: 30_000 }), 100);
    for (let i = 0; i < 200; i++) {
      const d = backoffMillis(3, { min: 100, max: 30_000 });
      assert.ok(d >= 100 && d <= 800, `${d}`);
      assert.ok(backoffMillis(30, { min: 100, max: 30_000 }) <= 30_000);
    }
  });

  test('options are validated with the value and what was expected', () => {
    assert.throws(() => new HomingClient({ urls: [], token: 't' }), /urls: \[\] \(expected: a non-empty array/);
    assert.throws(() => new HomingClient({ urls: ['http://x'], token: 't' }), /expected: a ws:\/\/ or wss:\/\/ url/);
    assert.throws(() => new HomingClient({ urls: ['ws://x'], token: 't', encoding: 'xml' }), /encoding: xml/);
    assert.throws(() => new HomingClient({ urls: ['ws://x'], token: 't', backoff: { min: 0 } }), /backoff: 0\.\.30000/);
    assert.throws(() => new HomingClient({ urls: ['ws://x'], token: 't', lastSeq: -1 }), /lastSeq: -1/);
  });
});

test('src/proto/homing-v1.js is what npm run gen-proto makes of the .proto files', async () => {
  const { readFileSync } = await import('node:fs');
  const { generate } = await import('../scripts/gen-proto.js');
  assert.equal(readFileSync(new URL('../src/proto/homing-v1.js', import.meta.url), 'utf8'), generate());
});
