// The demo page: connects as the user typed in, lists messages as they arrive, and sends one to
// the same user through the demo server's POST /send (which calls the Send API).
import { HomingClient } from '/client/index.js';

const $ = (id) => document.getElementById(id);
const config = await (await fetch('/config.json')).json();
let client;

$('connect').addEventListener('submit', async (event) => {
  event.preventDefault();
  await client?.close();
  $('messages').replaceChildren();
  const user = $('user').value.trim();
  client = new HomingClient({
    urls: config.urls,
    // Asked on every attempt: the demo server plays the application's auth service.
    token: async () => (await fetch(`/token?user=${encodeURIComponent(user)}`)).text(),
    onMessage: (seq, message) => {
      const item = document.createElement('li');
      item.textContent = `#${seq} ${new TextDecoder().decode(message.payload)}`;
      $('messages').append(item);
    },
    onState: (state, info) => {
      $('state').textContent = state === 'open' ? `open (${info.nodeId})` : state;
      $('send-button').disabled = state !== 'open';
    },
    onError: (error) => console.warn('homing:', error.code, error.message),
  }).start();
});

$('send').addEventListener('submit', async (event) => {
  event.preventDefault();
  const response = await fetch('/send', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ to: $('user').value.trim(), text: $('text').value }),
  });
  if (response.ok) {
    $('text').value = '';
  } else {
    $('state').textContent = `send failed: ${await response.text()}`;
  }
});
