// Frames as plain objects in the shape of protobuf's JSON mapping ({push: {seq: "7", …}}), whatever
// the wire form: JSON text, or protobuf bytes through protobufjs (loaded only for 'binary').
import descriptor from './proto/homing-v1.js';

const v1 = descriptor.nested.homing.nested.v1.nested;

function namesByNumber(values) {
  return new Map(Object.entries(values).map(([name, number]) => [number, name]));
}

/** Error.Code and AuthError.Code names by number, from client.proto. */
export const ERROR_CODES = namesByNumber(v1.Error.nested.Code.values);
export const AUTH_ERROR_CODES = namesByNumber(v1.AuthError.nested.Code.values);

export const jsonCodec = {
  binary: false,
  encode: (frame) => JSON.stringify(frame),
  decode: (data) => {
    if (typeof data !== 'string') {
      throw new TypeError('a binary frame on a JSON connection');
    }
    return JSON.parse(data);
  },
};

let binary;

/**
 * The protobuf codec. protobufjs is taken from globalThis.protobuf when a page loaded its light
 * build with a script tag (browsers, with `long` loaded first for exact 64-bit numbers), else
 * imported (Node.js).
 */
export function binaryCodec() {
  binary ??= loadProtobuf().then((protobuf) => {
    if (!protobuf.util.Long && globalThis.Long) {
      protobuf.util.Long = globalThis.Long;
      protobuf.configure();
    }
    const root = protobuf.Root.fromJSON(descriptor);
    const ClientFrame = root.lookupType('homing.v1.ClientFrame');
    const ServerFrame = root.lookupType('homing.v1.ServerFrame');
    return {
      binary: true,
      encode: (frame) => ClientFrame.encode(ClientFrame.fromObject(frame)).finish(),
      decode: (data) => {
        if (typeof data === 'string') {
          throw new TypeError('a text frame on a binary connection');
        }
        const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
        return ServerFrame.toObject(ServerFrame.decode(bytes), { longs: String, enums: String });
      },
    };
  });
  return binary;
}

async function loadProtobuf() {
  if (globalThis.protobuf?.Root) {
    return globalThis.protobuf;
  }
  try {
    return (await import('protobufjs/light.js')).default;
  } catch (e) {
    throw new Error(
      "encoding 'binary' needs protobufjs: in a browser load protobufjs/dist/light/protobuf.min.js " +
        `with a script tag first (${e.message})`,
    );
  }
}

/** A 64-bit counter from the JSON mapping (a decimal string) as a JS number. */
export function toSeq(value, what = 'seq') {
  const n = typeof value === 'string' ? Number(value) : Number(value ?? 0);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`${what}: ${value} (expected: an integer 0..${Number.MAX_SAFE_INTEGER})`);
  }
  return n;
}

/** A 64-bit identifier (a stream epoch) as its decimal string; "0" for none. */
export function toEpoch(value, what = 'streamEpoch') {
  const s = String(value ?? 0);
  if (!/^\d+$/.test(s) || BigInt(s) >= 2n ** 64n) {
    throw new RangeError(`${what}: ${value} (expected: a uint64, as a decimal string)`);
  }
  return BigInt(s).toString();
}

function base64ToBytes(text) {
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    bytes[i] = raw.charCodeAt(i);
  }
  return bytes;
}

/** A Push's Message, the same for both encodings. */
export function toMessage(m = {}) {
  const payload = m.payload ?? '';
  return {
    messageId: m.messageId ?? '',
    payload: typeof payload === 'string' ? base64ToBytes(payload) : new Uint8Array(payload),
    contentType: m.contentType ?? '',
    headers: { ...(m.headers ?? {}) },
    createdAtMs: toSeq(m.createdAtMs, 'createdAtMs'),
    ttlMs: toSeq(m.ttlMs, 'ttlMs'),
  };
}
