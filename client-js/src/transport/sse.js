// Server-Sent Events from an edge: GET /sse streams ServerFrames in the JSON mapping, acks go as
// POST /ack. Both carry the token as `Authorization: Bearer` in Node.js and as `?token=` in
// browsers (a cross-origin request with a header of its own would need a CORS preflight).
// Read with fetch, so the same code runs in both.

const inBrowser = typeof document !== 'undefined';

/** The edge's HTTP URL of `path` (sse, ack) next to its WebSocket URL: ws://h:7410/ws → http://h:7410/sse. */
export function httpUrl(webSocketUrl, path) {
  const url = new URL(webSocketUrl);
  url.protocol = url.protocol === 'wss:' ? 'https:' : url.protocol === 'ws:' ? 'http:' : url.protocol;
  return new URL(path, url);
}

export class SseTransport {
  name = 'sse';
  pings = false;
  #url;
  #handlers;
  #abort = new AbortController();
  #token = '';
  #opened = false;
  #ended = false;
  #pendingAck = 0;
  #sentAck = 0;
  #acking = false;

  constructor(url, handlers) {
    this.#url = url;
    this.#handlers = handlers;
  }

  async open(auth) {
    this.#token = auth.token;
    const url = this.#withToken(httpUrl(this.#url, 'sse'));
    url.searchParams.set('last_seq', auth.lastSeq);
    url.searchParams.set('stream_epoch', auth.streamEpoch);
    let response;
    try {
      response = await fetch(url, {
        headers: { Accept: 'text/event-stream', ...this.#authorization() },
        cache: 'no-store',
        signal: this.#abort.signal,
      });
    } catch (e) {
      this.#end(0, this.#abort.signal.aborted ? 'closed' : `cannot open ${url.pathname}: ${e.message}`);
      return;
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      this.#end(response.status, `GET /sse answered ${response.status}`);
      return;
    }
    this.#opened = true;
    try {
      await this.#read(response.body);
      this.#end(0, 'the event stream ended');
    } catch (e) {
      this.#end(0, this.#abort.signal.aborted ? 'closed' : `event stream failed: ${e.message}`);
    }
  }

  send() {}

  ping() {}

  /** Acks are coalesced: while one POST is out, only the highest seq asked for meanwhile follows. */
  ack(seq) {
    this.#pendingAck = Math.max(this.#pendingAck, seq);
    if (!this.#acking) {
      this.#postAcks();
    }
  }

  close() {
    this.#abort.abort();
    if (!this.#opened) {
      this.#end(0, 'closed');
    }
  }

  async #postAcks() {
    this.#acking = true;
    try {
      while (this.#pendingAck > this.#sentAck && !this.#ended) {
        const seq = this.#pendingAck;
        const response = await fetch(this.#withToken(httpUrl(this.#url, 'ack')), {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', ...this.#authorization() },
          body: JSON.stringify({ seq: String(seq) }),
          signal: this.#abort.signal,
        });
        await response.body?.cancel();
        if (response.status === 404) {
          this.#fail('POST /ack answered 404: this edge holds no SSE session for the device');
        } else if (!response.ok) {
          this.#fail(`POST /ack answered ${response.status}`);
        }
        this.#sentAck = seq;
      }
    } catch (e) {
      if (!this.#abort.signal.aborted) {
        this.#fail(`POST /ack failed: ${e.message}`);
      }
    } finally {
      this.#acking = false;
    }
  }

  /** Parses text/event-stream: `data:` lines make an event, a blank line ends it, `:` is a heartbeat. */
  async #read(body) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    let data = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        return;
      }
      buffer += value;
      const lines = buffer.split(/\r\n|\r|\n/);
      buffer = lines.pop();
      for (const line of lines) {
        if (line === '') {
          if (data.length) {
            const frame = JSON.parse(data.join('\n'));
            data = [];
            this.#handlers.onFrame(frame);
          }
        } else if (line.startsWith('data:')) {
          data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
        }
      }
    }
  }

  #fail(reason) {
    this.#abort.abort();
    this.#end(0, reason);
  }

  #withToken(url) {
    if (inBrowser) {
      url.searchParams.set('token', this.#token);
    }
    return url;
  }

  #authorization() {
    return inBrowser ? {} : { Authorization: `Bearer ${this.#token}` };
  }

  #end(code, reason) {
    if (!this.#ended) {
      this.#ended = true;
      this.#handlers.onEnd({ code, reason, opened: this.#opened });
    }
  }
}
