// A client of the Send API (gRPC, api-proto/src/main/proto/homing/v1/send.proto) for tests and the
// demo: send(userIds, text) resolves with the SendResponse once Kafka acked every copy. Every call
// carries the API key (docs/security.md).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const protoRoot = join(dirname(fileURLToPath(import.meta.url)), '../../api-proto/src/main/proto');

/** The key deploy/local's Send API takes; never use it beyond a laptop. */
export const LOCAL_API_KEY =
  process.env.HOMING_API_KEY ?? 'homing-dev-api-key-do-not-use-in-production';

export function sendApi(address = process.env.HOMING_SEND_API ?? '127.0.0.1:7400',
  apiKey = LOCAL_API_KEY) {
  const definition = protoLoader.loadSync('homing/v1/send.proto', { includeDirs: [protoRoot] });
  const { SendService } = grpc.loadPackageDefinition(definition).homing.v1;
  const stub = new SendService(address, grpc.credentials.createInsecure());
  const credentials = new grpc.Metadata();
  credentials.set('authorization', `Bearer ${apiKey}`);
  return {
    /** Sends `text` (or bytes) to each user; options: contentType, messageId, headers. */
    send(userIds, text, { contentType = 'text/plain', messageId = '', headers = {} } = {}) {
      const payload = typeof text === 'string' ? Buffer.from(text) : Buffer.from(text);
      const request = { userIds: [].concat(userIds), payload, contentType, messageId, headers };
      return new Promise((resolve, reject) =>
        stub.send(request, credentials, { deadline: Date.now() + 10_000 }, (error, response) =>
          error ? reject(error) : resolve(response),
        ),
      );
    },
    close: () => stub.close(),
  };
}
