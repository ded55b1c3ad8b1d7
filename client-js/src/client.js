import { AUTH_ERROR_CODES, ERROR_CODES, binaryCodec, jsonCodec, toEpoch, toMessage, toSeq } from './codec.js';
import { SseTransport } from './transport/sse.js';
import { WebSocketTransport } from './transport/websocket.js';

/** The default backoff, in ms: the same as the Java client's. */
export const DEFAULT_BACKOFF = Object.freeze({ min: 100, max: 30_000 });
/** Acks of one connection go out at most this often (ms), each for everything delivered so far. */
const ACK_INTERVAL_MS = 10;

/** Why a connection ended, when the server or the client said so; `code` names it. */
export class HomingError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'HomingError';
    this.code = code;
  }
}

/**
 * What a connection's end means: stop for good, or reconnect. A pure function of what the
 * connection saw, so the rules read in one place:
 * - AuthError INVALID_TOKEN or EXPIRED_TOKEN (frame, or close code 4100 + code): stop, unless the
 *   token is a function, which is asked again;
 * - Error REPLACED (frame, or close code 4004): stop, another connection of this device took over;
 * - anything else: reconnect.
 * The frame wins over the close code when both came.
 */
export function judgeEnd({ authError, error, gap, closeCode, tokenIsFunction }) {
  let code = authError?.code ?? error?.code;
  let kind = authError ? 'auth' : error ? 'error' : null;
  if (!kind && closeCode >= 4100 && closeCode < 4200) {
    code = AUTH_ERROR_CODES.get(closeCode - 4100) ?? `AUTH_ERROR_${closeCode - 4100}`;
    kind = 'auth';
  } else if (!kind && closeCode >= 4000 && closeCode < 4100) {
    code = ERROR_CODES.get(closeCode - 4000) ?? `ERROR_${closeCode - 4000}`;
    kind = 'error';
  }
  if (gap) {
    return { stop: false, code: 'GAP', message: gap };
  }
  if (!kind) {
    return { stop: false, code: null, message: null };
  }
  const message = (authError ?? error)?.message || `close code ${closeCode}`;
  const refused = kind === 'auth' && (code === 'INVALID_TOKEN' || code === 'EXPIRED_TOKEN');
  return { stop: (refused && !tokenIsFunction) || (kind === 'error' && code === 'REPLACED'), code, message };
}

/** The wait before reconnect attempt `attempt` (0 first): random in [min, min(max, min·2^attempt)]. */
export function backoffMillis(attempt, { min, max }) {
  const cap = Math.min(max, min * 2 ** Math.min(attempt, 20));
  return cap <= min ? min : min + Math.floor(Math.random() * (cap - min + 1));
}

/**
 * A device's lasting session with Homing over any number of connections: hands each message to
 * onMessage once and in seq order, acks after it returned (or its promise resolved), and
 * reconnects with a jittered exponential backoff — to the next url — resuming after the last seq
 * delivered. See docs/javascript-client.md.
 */
export class HomingClient {
  #urls;
  #token;
  #encoding;
  #transport;
  #onMessage;
  #onState;
  #onError;
  #backoff;
  #lastDelivered;
  #streamEpoch;
  #state = 'idle';
  #failedAttempts = 0;
  #nextUrl = 0;
  #sessions = 0;
  #connection = null;
  #timer = null;
  #deliveries = Promise.resolve();
  #ended = null;

  constructor(options = {}) {
    const { urls, token, lastSeq = 0, streamEpoch = '0', encoding = 'json', transport = 'websocket' } = options;
    if (!Array.isArray(urls) || urls.length === 0) {
      throw new TypeError(`urls: ${JSON.stringify(urls)} (expected: a non-empty array of ws:// or wss:// urls)`);
    }
    for (const url of urls) {
      if (!/^wss?:\/\//.test(String(url))) {
        throw new TypeError(`urls: ${url} (expected: a ws:// or wss:// url)`);
      }
    }
    if (typeof token !== 'string' && typeof token !== 'function') {
      throw new TypeError(`token: ${typeof token} (expected: a string or a function returning one)`);
    }
    if (encoding !== 'json' && encoding !== 'binary') {
      throw new TypeError(`encoding: ${encoding} (expected: 'json' or 'binary')`);
    }
    if (!['websocket', 'sse', 'auto'].includes(transport)) {
      throw new TypeError(`transport: ${transport} (expected: 'websocket', 'sse' or 'auto')`);
    }
    const backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    if (!(backoff.min > 0 && backoff.max >= backoff.min)) {
      throw new RangeError(`backoff: ${backoff.min}..${backoff.max} (expected: 0 < min <= max)`);
    }
    this.#urls = urls.map(String);
    this.#token = token;
    this.#encoding = encoding;
    this.#transport = transport;
    this.#onMessage = options.onMessage ?? (() => {});
    this.#onState = options.onState ?? (() => {});
    this.#onError = options.onError ?? (() => {});
    this.#backoff = backoff;
    this.#lastDelivered = toSeq(lastSeq, 'lastSeq');
    this.#streamEpoch = toEpoch(streamEpoch);
  }

  /** The highest seq handed to onMessage (or the lastSeq started with): what to persist. */
  get lastDelivered() {
    return this.#lastDelivered;
  }

  /** The stream epoch lastDelivered belongs to, a decimal string ("0": unknown): persist it too. */
  get streamEpoch() {
    return this.#streamEpoch;
  }

  /** 'idle', 'connecting', 'open', 'reconnecting' or 'closed'. */
  get state() {
    return this.#state;
  }

  /** How many connections authenticated so far. */
  get sessions() {
    return this.#sessions;
  }

  /** Starts connecting and returns at once. */
  start() {
    if (this.#state !== 'idle') {
      throw new Error(`start: the client is ${this.#state} (expected: idle)`);
    }
    this.#ended = new Promise((resolve) => {
      this.#resolveEnded = resolve;
    });
    this.#connect();
    return this;
  }

  /** Stops reconnecting and closes the connection; resolves once it is closed. Idempotent. */
  async close() {
    if (this.#state === 'closed' || this.#state === 'idle') {
      this.#setState('closed', { reason: 'closed by the application' });
      return;
    }
    clearTimeout(this.#timer);
    const connection = this.#connection;
    this.#stop('closed by the application');
    connection?.close();
    await connection?.ended;
  }

  #resolveEnded = () => {};

  /** Resolves when the client stopped: close(), or an end that allows no reconnect. */
  get stopped() {
    return this.#ended ?? Promise.resolve();
  }

  async #connect() {
    await this.#deliveries; // the last connection's messages first, so lastDelivered is final
    if (this.#state === 'closed') {
      return;
    }
    const url = this.#urls[this.#nextUrl++ % this.#urls.length];
    this.#setState('connecting', { url });
    let token;
    try {
      token = typeof this.#token === 'function' ? await this.#token() : this.#token;
      if (typeof token !== 'string') {
        throw new TypeError(`the token function gave ${typeof token} (expected: a string)`);
      }
    } catch (e) {
      this.#onError(new HomingError('TOKEN_FAILED', `token: ${e.message}`));
      this.#reconnectLater(`no token: ${e.message}`);
      return;
    }
    if (this.#state === 'closed') {
      return;
    }
    const connection = new Connection(this.#sessionHooks(), url, {
      token,
      lastSeq: String(this.#lastDelivered),
      streamEpoch: this.#streamEpoch,
    });
    this.#connection = connection;
    const end = await connection.run(this.#transport, this.#encoding);
    if (this.#connection !== connection || this.#state === 'closed') {
      return;
    }
    this.#connection = null;
    const verdict = judgeEnd({ ...end, tokenIsFunction: typeof this.#token === 'function' });
    if (verdict.code) {
      this.#onError(new HomingError(verdict.code, verdict.message));
    }
    if (verdict.stop) {
      this.#stop(`${verdict.code}: ${verdict.message}`);
    } else {
      this.#reconnectLater(verdict.code ? `${verdict.code}: ${verdict.message}` : end.reason);
    }
  }

  #reconnectLater(reason) {
    const delayMs = backoffMillis(this.#failedAttempts++, this.#backoff);
    this.#setState('reconnecting', { reason, delayMs });
    this.#timer = setTimeout(() => this.#connect(), delayMs);
  }

  #stop(reason) {
    this.#setState('closed', { reason });
    this.#resolveEnded();
  }

  #setState(state, info) {
    this.#state = state;
    this.#call(this.#onState, state, info);
  }

  #call(callback, ...args) {
    try {
      callback(...args);
    } catch (e) {
      queueMicrotask(() => {
        throw e;
      });
    }
  }

  /** What a Connection may do to the client. */
  #sessionHooks() {
    return {
      closed: () => this.#state === 'closed',
      authenticated: (ok, connection) => this.#authenticated(ok, connection),
      deliver: (seq, message, connection) => this.#enqueue(seq, message, connection),
    };
  }

  /**
   * Takes the server's view of the stream: AuthOk's resumeAfter is where delivery resumes for
   * this device, and becomes the last delivered seq. A client ahead of the server (it sent a last
   * seq above the server's) or on an older stream epoch would otherwise drop new messages as
   * already delivered (docs/protocol.md, "A session").
   */
  #authenticated(ok, connection) {
    this.#lastDelivered = toSeq(ok.resumeAfter, 'AuthOk.resumeAfter');
    this.#streamEpoch = toEpoch(ok.streamEpoch, 'AuthOk.streamEpoch');
    this.#failedAttempts = 0;
    this.#sessions++;
    this.#setState('open', {
      url: connection.url,
      transport: connection.transportName,
      userId: ok.userId ?? '',
      deviceId: ok.deviceId ?? '',
      nodeId: ok.nodeId ?? '',
    });
  }

  /**
   * Hands messages to onMessage one at a time, in arrival order (which is seq order, gaps having
   * closed the connection). A seq at or below the last delivered is a resend and dropped. If
   * onMessage throws, the message is not acked, the rest of the connection's messages are dropped
   * and the connection closes: the next one brings them again.
   */
  #enqueue(seq, message, connection) {
    this.#deliveries = this.#deliveries.then(async () => {
      if (this.#state === 'closed' || connection.discarding || seq <= this.#lastDelivered) {
        return;
      }
      try {
        await this.#onMessage(seq, message);
      } catch (e) {
        connection.discarding = true;
        this.#onError(new HomingError('HANDLER_FAILED', `onMessage threw for seq ${seq}: ${e?.message ?? e}`));
        connection.close();
        return;
      }
      this.#lastDelivered = seq;
      connection.ack(seq);
    });
  }
}

/**
 * One connection: opens a transport (for 'auto', SSE when the WebSocket never opened), answers
 * AuthOk with heartbeats, checks each push for a gap and passes it on. run() resolves with how it
 * ended: {reason, authError, error, gap, closeCode}.
 */
class Connection {
  discarding = false;
  #client;
  #auth;
  #transport;
  #heartbeat;
  #seen = -1;
  #authError = null;
  #error = null;
  #gap = null;
  #closing = false;
  #resolveEnded;
  #ackTimer = null;
  #ackSeq = 0;
  #lastAckAt = -Infinity;

  constructor(client, url, auth) {
    this.#client = client;
    this.url = url;
    this.#auth = auth;
    this.ended = new Promise((resolve) => {
      this.#resolveEnded = resolve;
    });
  }

  get transportName() {
    return this.#transport?.name;
  }

  async run(transport, encoding) {
    let end = await this.#runOver(transport === 'sse' ? 'sse' : 'websocket', encoding);
    if (transport === 'auto' && !end.opened && !this.#closing) {
      end = await this.#runOver('sse', encoding);
    }
    clearInterval(this.#heartbeat);
    clearTimeout(this.#ackTimer);
    this.#ackTimer = null;
    const result = {
      reason: this.#gap ?? end.reason,
      closeCode: this.#transport?.name === 'websocket' ? end.code : 0,
      authError: this.#authError,
      error: this.#error,
      gap: this.#gap,
    };
    this.#resolveEnded(result);
    return result;
  }

  /**
   * Acks seq, at most once per ACK_INTERVAL_MS: acks are cumulative, so a later one carries the
   * earlier, and one per message would spend the connection's frame rate (RATE_LIMITED).
   */
  ack(seq) {
    this.#ackSeq = Math.max(this.#ackSeq, seq);
    if (this.#ackTimer !== null) {
      return;
    }
    const wait = this.#lastAckAt + ACK_INTERVAL_MS - Date.now();
    if (wait <= 0) {
      this.#flushAck();
    } else {
      this.#ackTimer = setTimeout(() => this.#flushAck(), wait);
    }
  }

  #flushAck() {
    this.#ackTimer = null;
    this.#lastAckAt = Date.now();
    if (!this.#closing) {
      this.#transport.ack(this.#ackSeq);
    }
  }

  close() {
    this.#closing = true;
    this.#transport?.close();
  }

  async #runOver(name, encoding) {
    const codec = name === 'websocket' && encoding === 'binary' ? await binaryCodec() : jsonCodec;
    return new Promise((resolve) => {
      const handlers = { onFrame: (frame) => this.#onFrame(frame), onEnd: resolve };
      this.#transport =
        name === 'sse' ? new SseTransport(this.url, handlers) : new WebSocketTransport(this.url, codec, handlers);
      if (this.#closing) {
        this.#transport.close();
      } else {
        this.#transport.open(this.#auth);
      }
    });
  }

  #onFrame(frame) {
    if (this.#closing) {
      return;
    }
    if (frame.authOk) {
      this.#startHeartbeat(frame.authOk.heartbeatSeconds ?? 0);
      this.#client.authenticated(frame.authOk, this);
    } else if (frame.push) {
      this.#onPush(frame.push);
    } else if (frame.authError) {
      this.#authError = { code: frame.authError.code ?? 'CODE_UNSPECIFIED', message: frame.authError.message ?? '' };
    } else if (frame.error) {
      this.#error = { code: frame.error.code ?? 'CODE_UNSPECIFIED', message: frame.error.message ?? '' };
    }
  }

  /**
   * The first push of the connection sets where the server starts (prev_seq may skip what this
   * device acked before); after that a prev_seq beyond the highest seq seen here means a push went
   * missing — never skip it: close, and the next connection resumes after the last delivered.
   */
  #onPush(push) {
    const seq = toSeq(push.seq);
    const prevSeq = toSeq(push.prevSeq, 'prevSeq');
    if (this.#seen >= 0 && prevSeq > this.#seen) {
      this.#gap = `gap: got seq ${seq} after ${prevSeq}, but only ${this.#seen} arrived`;
      this.close();
      return;
    }
    this.#seen = Math.max(this.#seen, seq);
    this.#client.deliver(seq, toMessage(push.message), this);
  }

  #startHeartbeat(seconds) {
    if (seconds > 0 && this.#transport.pings) {
      let nonce = 0;
      this.#heartbeat = setInterval(() => this.#transport.ping(++nonce), seconds * 1000);
    }
  }
}
