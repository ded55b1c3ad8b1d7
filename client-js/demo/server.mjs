// The demo's server: serves the page and the client's modules, signs tokens for the local stack
// (GET /token?user=…, standing in for an application's auth service) and sends a message through
// the Send API (POST /send {"to": user, "text": …}).
//
//   node demo/server.mjs      then open http://127.0.0.1:7480/
//   HOMING_DEMO_PORT (7480), HOMING_WS_URLS (ws://127.0.0.1:7410/ws,ws://127.0.0.1:7411/ws),
//   HOMING_SEND_API (127.0.0.1:7400), HOMING_JWT_SECRET (the local stack's)
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sendApi } from '../dev/send-api.js';
import { signToken } from '../dev/tokens.js';

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, '../src');
const DEFAULT_URLS = 'ws://127.0.0.1:7410/ws,ws://127.0.0.1:7411/ws';

async function file(response, path, type) {
  try {
    const body = await readFile(path);
    response.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-store' }).end(body);
  } catch {
    response.writeHead(404).end('not found');
  }
}

async function readJson(request) {
  let body = '';
  for await (const chunk of request) {
    body += chunk;
  }
  return JSON.parse(body);
}

/** Starts the server; resolves with {url, close()}. */
export async function startDemoServer({
  port = Number(process.env.HOMING_DEMO_PORT ?? 7480),
  urls = (process.env.HOMING_WS_URLS ?? DEFAULT_URLS).split(','),
} = {}) {
  const api = sendApi();
  const server = createServer(async (request, response) => {
    const url = new URL(request.url, 'http://demo');
    try {
      if (request.method === 'GET' && url.pathname === '/') {
        await file(response, join(here, 'index.html'), 'text/html; charset=utf-8');
      } else if (request.method === 'GET' && url.pathname === '/demo.js') {
        await file(response, join(here, 'app.js'), 'text/javascript');
      } else if (request.method === 'GET' && url.pathname.startsWith('/client/')) {
        const path = normalize(join(src, url.pathname.slice('/client/'.length)));
        await (path.startsWith(src) && path.endsWith('.js')
          ? file(response, path, 'text/javascript')
          : response.writeHead(404).end('not found'));
      } else if (request.method === 'GET' && url.pathname === '/config.json') {
        response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ urls }));
      } else if (request.method === 'GET' && url.pathname === '/token') {
        const user = url.searchParams.get('user');
        if (!user) {
          response.writeHead(400).end('user: missing (expected: ?user=<id>)');
          return;
        }
        response.writeHead(200, { 'Content-Type': 'text/plain' }).end(signToken({ user, device: 'demo' }));
      } else if (request.method === 'POST' && url.pathname === '/send') {
        const { to, text } = await readJson(request);
        const sent = await api.send(to, String(text));
        response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ messageId: sent.messageId }));
      } else {
        response.writeHead(404).end('not found');
      }
    } catch (e) {
      response.writeHead(502, { 'Content-Type': 'text/plain' }).end(e.message);
    }
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    close: () => {
      api.close();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { url } = await startDemoServer();
  console.log(`Homing demo at ${url}`);
}
