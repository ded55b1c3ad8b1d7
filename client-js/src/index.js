export { DEFAULT_BACKOFF, HomingClient, HomingError, backoffMillis, judgeEnd } from './client.js';
