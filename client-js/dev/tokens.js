// Tokens for the local stack: HS256 JWTs as the edges verify them (sub = user, device, exp),
// signed with deploy/local/run.sh's secret. For tests and the demo; an application's own auth
// service issues real ones.
import { createHmac } from 'node:crypto';

export const LOCAL_JWT_SECRET = process.env.HOMING_JWT_SECRET ?? 'homing-dev-secret-do-not-use-in-production';

const base64url = (value) => Buffer.from(value).toString('base64url');

/** A token for `user` on `device`, valid for `ttlSeconds`. */
export function signToken({ user, device = 'js', ttlSeconds = 3600, secret = LOCAL_JWT_SECRET }) {
  const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const claims = base64url(JSON.stringify({ sub: user, device, exp: Math.floor(Date.now() / 1000) + ttlSeconds }));
  const signature = createHmac('sha256', secret).update(`${header}.${claims}`).digest('base64url');
  return `${header}.${claims}.${signature}`;
}
