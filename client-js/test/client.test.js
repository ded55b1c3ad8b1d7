// The client against the real local stack (test/with-stack.sh starts it): Kafka, Redis, core and
// two edges. Every test uses users of its own.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { HomingClient } from '../src/index.js';
import { signToken } from '../dev/tokens.js';
import {
  EDGE_2, api, closeApi, cuttableProxy, freshUser, recordingClient, sendTexts, sleep, text, waitFor,
} from './support.js';

after(closeApi);

const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

for (const encoding of ['json', 'binary']) {
  describe(`over WebSocket, ${encoding}`, { timeout: 60_000 }, () => {
    test('receives messages sent while online, in seq order, with their bytes', async () => {
      const user = freshUser('online');
      const r = recordingClient({ user, encoding });
      await waitFor('open', () => r.client.state === 'open');
      await sendTexts(user, ['one', 'two', 'three']);
      await waitFor('3 messages', () => r.got.length === 3);
      assert.deepEqual(r.got, [
        { seq: 1, text: 'one' }, { seq: 2, text: 'two' }, { seq: 3, text: 'three' },
      ]);
      assert.equal(r.client.lastDelivered, 3);
      await r.client.close();
      assert.equal(r.client.state, 'closed');
    });

    test('gets the backlog sent while it was offline on connect', async () => {
      const user = freshUser('backlog');
      await sendTexts(user, ['a', 'b', 'c', 'd']);
      const r = recordingClient({ user, encoding });
      await waitFor('4 messages', () => r.got.length === 4);
      assert.deepEqual(r.got.map((m) => m.text), ['a', 'b', 'c', 'd']);
      assert.deepEqual(r.seqs(), [1, 2, 3, 4]);
      await r.client.close();
    });

    test('resumes after a network drop with no duplicate, no loss, in order', async () => {
      const user = freshUser('resume');
      const proxy = await cuttableProxy(7410);
      const r = recordingClient({ user, encoding, urls: [proxy.url] });
      try {
        await waitFor('open', () => r.client.state === 'open');
        await sendTexts(user, range(1, 5).map(String));
        await waitFor('5 messages', () => r.got.length === 5);
        proxy.cut();
        await sendTexts(user, range(6, 10).map(String));
        await waitFor('10 messages', () => r.got.length >= 10);
        await sleep(300); // a duplicate would show up here
        assert.deepEqual(r.seqs(), range(1, 10));
        assert.deepEqual(r.got.map((m) => m.text), range(1, 10).map(String));
        assert.ok(r.client.sessions >= 2, `sessions: ${r.client.sessions} (expected: a reconnect)`);
        assert.ok(r.states.some((s) => s.state === 'reconnecting'));
      } finally {
        await r.client.close();
        await proxy.close();
      }
    });
  });
}

describe('acks and redelivery', { timeout: 60_000 }, () => {
  test('acked messages are not delivered again to the same device', async () => {
    const user = freshUser('acked');
    const first = recordingClient({ user, device: 'phone' });
    await waitFor('open', () => first.client.state === 'open');
    await sendTexts(user, ['x', 'y', 'z']);
    await waitFor('3 messages', () => first.got.length === 3);
    await sleep(500); // acks reach core through delivery-events
    await first.client.close();

    const second = recordingClient({ user, device: 'phone' }); // lastSeq 0: a fresh install
    await waitFor('open', () => second.client.state === 'open');
    await sendTexts(user, ['after']);
    await waitFor('the new message', () => second.got.length >= 1);
    await sleep(300);
    assert.deepEqual(second.got, [{ seq: 4, text: 'after' }]);
    await second.client.close();
  });

  test('a message whose handler threw is not acked and comes again on the reconnect', async () => {
    const user = freshUser('throws');
    const attempts = new Map();
    const r = recordingClient({
      user,
      onMessage: (seq) => {
        attempts.set(seq, (attempts.get(seq) ?? 0) + 1);
        if (seq === 2 && attempts.get(seq) === 1) {
          throw new Error('not now');
        }
      },
    });
    await sendTexts(user, ['1', '2', '3']);
    await waitFor('3 messages', () => r.got.length === 3);
    assert.deepEqual(r.seqs(), [1, 2, 3]);
    assert.equal(attempts.get(2), 2);
    assert.equal(attempts.get(1), 1);
    assert.ok(r.errors.some((e) => e.code === 'HANDLER_FAILED'));
    await r.client.close();
  });

  test('messages never acked are delivered again to the next connection of the device', async () => {
    const user = freshUser('unacked');
    const seen = [];
    const stuck = new HomingClient({
      urls: [EDGE_2],
      token: signToken({ user, device: 'tablet' }),
      onMessage: (seq) => {
        seen.push(seq);
        return new Promise(() => {}); // never done, so never acked
      },
    }).start();
    await sendTexts(user, ['p', 'q']);
    await waitFor('the first message', () => seen.length === 1);
    await sleep(300);
    await stuck.close();
    assert.equal(stuck.lastDelivered, 0);

    const next = recordingClient({ user, device: 'tablet' });
    await waitFor('2 messages', () => next.got.length === 2);
    assert.deepEqual(next.got, [{ seq: 1, text: 'p' }, { seq: 2, text: 'q' }]);
    await next.client.close();
  });
});

describe('tokens and edges', { timeout: 60_000 }, () => {
  test('a token with a bad signature is refused with INVALID_TOKEN and not retried', async () => {
    const user = freshUser('badtoken');
    const r = recordingClient({ user, token: signToken({ user, secret: 'not-the-secret' }) });
    await Promise.race([r.client.stopped, sleep(10_000)]);
    assert.equal(r.client.state, 'closed');
    assert.equal(r.client.sessions, 0);
    assert.deepEqual(r.errors.map((e) => e.code), ['INVALID_TOKEN']);
    assert.equal(r.states.filter((s) => s.state === 'connecting').length, 1);
  });

  test('a token function is asked again after INVALID_TOKEN', async () => {
    const user = freshUser('tokenfn');
    let asked = 0;
    const r = recordingClient({
      user,
      token: async () => (++asked === 1 ? 'not-a-jwt' : signToken({ user })),
    });
    await waitFor('open', () => r.client.state === 'open');
    assert.equal(asked, 2);
    assert.equal(r.errors[0].code, 'INVALID_TOKEN');
    await sendTexts(user, ['hi']);
    await waitFor('the message', () => r.got.length === 1);
    await r.client.close();
  });

  test('fails over to the second url when the first edge is unreachable', async () => {
    const user = freshUser('failover');
    const r = recordingClient({ user, urls: ['ws://127.0.0.1:7419/ws', EDGE_2] });
    await waitFor('open', () => r.client.state === 'open');
    const open = r.states.find((s) => s.state === 'open');
    assert.equal(open.url, EDGE_2);
    assert.equal(open.nodeId, 'edge-2');
    assert.equal(r.states[0].url, 'ws://127.0.0.1:7419/ws');
    await sendTexts(user, ['via edge-2']);
    await waitFor('the message', () => r.got.length === 1);
    assert.equal(r.got[0].text, 'via edge-2');
    await r.client.close();
  });
});

test('the payload arrives as bytes with its content type', { timeout: 30_000 }, async () => {
  const user = freshUser('bytes');
  const messages = [];
  const client = new HomingClient({
    urls: [EDGE_2],
    token: signToken({ user }),
    encoding: 'binary',
    onMessage: (seq, message) => messages.push(message),
  }).start();
  await waitFor('open', () => client.state === 'open');
  await api().send(user, Buffer.from([0, 255, 7]), { contentType: 'application/octet-stream', headers: { k: 'v' } });
  await waitFor('the message', () => messages.length === 1);
  assert.deepEqual([...messages[0].payload], [0, 255, 7]);
  assert.equal(messages[0].contentType, 'application/octet-stream');
  assert.deepEqual(messages[0].headers, { k: 'v' });
  assert.ok(messages[0].createdAtMs > 0);
  assert.equal(text({ payload: new Uint8Array() }), '');
  await client.close();
});
