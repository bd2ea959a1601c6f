// Who is signed in: the token's name, role and customer (from /ui/whoami).
import { request, setToken } from "./api.js";

export const session = { me: null };

export function canWrite() {
  return Boolean(session.me && session.me.can_write);
}

export function isUnbound() {
  return Boolean(session.me && !session.me.customer_id);
}

// Check a token without touching the stored one; store it only once it is accepted.
export async function signIn(token) {
  const me = await request("GET", "/ui/whoami", { token });
  setToken(token);
  session.me = me;
  return me;
}

export async function loadMe() {
  session.me = await request("GET", "/ui/whoami");
  return session.me;
}
