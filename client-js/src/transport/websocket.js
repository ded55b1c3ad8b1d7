// One WebSocket to an edge: sends Auth once open, then frames in the codec's form. The browser's
// WebSocket where there is one, the `ws` package in Node.js.

async function webSocketClass() {
  return globalThis.WebSocket ?? (await import('ws')).default;
}

export class WebSocketTransport {
  name = 'websocket';
  /** The client pings on this transport; SSE has the server's heartbeats instead. */
  pings = true;
  #url;
  #codec;
  #handlers;
  #socket;
  #opened = false;
  #ended = false;
  #error = '';

  /** handlers: onFrame(frame), onEnd({code, reason, opened}) — called once. */
  constructor(url, codec, handlers) {
    this.#url = url;
    this.#codec = codec;
    this.#handlers = handlers;
  }

  async open(auth) {
    let socket;
    try {
      const WebSocket = await webSocketClass();
      socket = new WebSocket(this.#url);
    } catch (e) {
      this.#end({ code: 0, reason: `cannot open ${this.#url}: ${e.message}` });
      return;
    }
    this.#socket = socket;
    socket.binaryType = 'arraybuffer';
    socket.onopen = () => {
      this.#opened = true;
      this.send({ auth });
    };
    socket.onmessage = (event) => {
      let frame;
      try {
        frame = this.#codec.decode(event.data);
      } catch (e) {
        this.#error = `undecodable frame: ${e.message}`;
        socket.close(1000);
        return;
      }
      this.#handlers.onFrame(frame);
    };
    socket.onerror = (event) => {
      this.#error ||= event?.message || event?.error?.message || 'websocket error';
    };
    socket.onclose = (event) => this.#end({ code: event.code, reason: event.reason || this.#error });
  }

  send(frame) {
    if (this.#socket?.readyState === 1) {
      this.#socket.send(this.#codec.encode(frame));
    }
  }

  ack(seq) {
    this.send({ ack: { seq: String(seq) } });
  }

  ping(nonce) {
    this.send({ ping: { nonce: String(nonce) } });
  }

  /** Closes with 1000 (normal); the end is reported through onEnd as usual. */
  close() {
    if (this.#socket) {
      this.#socket.close(1000);
    } else {
      this.#end({ code: 0, reason: 'closed before it opened' });
    }
  }

  #end({ code, reason }) {
    if (!this.#ended) {
      this.#ended = true;
      this.#handlers.onEnd({ code, reason: reason || 'connection closed', opened: this.#opened });
    }
  }
}
