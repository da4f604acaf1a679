/**
 * linked-accounts: the post-login Action of the at-login door.
 *
 * On the first login of an account whose verified email another account already has, it sends
 * the person to the app's linking page (Auth0's "post-login Action with an external linking
 * application"). The page asks whether that other account is theirs too, proves it by a sign-in
 * to it, and answers at /continue; this Action then links the two, the older account staying.
 * With IDENTITIES_CLAIM set, it also puts the person's identities in the ID token of every login
 * (after a link, those of the account the login ends as), so that the settings page's first
 * view after a sign-in needs no Management API read.
 *
 * Secrets (event.secrets; `flask linked-accounts install-action` sets every one of them):
 *   LINKING_SECRET     required  HS256 secret shared with the app
 *                                (its LINKED_ACCOUNTS_AT_LOGIN_SECRET).
 *   LINKING_URL        required  the linking page's absolute URL,
 *                                e.g. https://app.example.com/account/at-login
 *   AUTH0_DOMAIN       required  where /oauth/token and the Management API are, e.g.
 *                                tenant.eu.auth0.com. A value with a scheme
 *                                (http://127.0.0.1:5001, the development tenant) is the origin
 *                                as it is; a bare host means https://.
 *   M2M_CLIENT_ID      required  a machine-to-machine client granted read:users update:users
 *   M2M_CLIENT_SECRET  required  its secret
 *   CLIENT_IDS         optional  comma-separated client ids this Action acts for (empty: all)
 *   NOT_NOW_DAYS       optional  days before asking again after "not now" (default 30)
 *   IDENTITIES_CLAIM   optional  the name of an ID token claim to put the person's identities
 *                                in, a namespaced URL such as
 *                                https://linked-accounts/identities (the app's
 *                                LINKED_ACCOUNTS_IDENTITIES_CLAIM): the settings page's first
 *                                view after a sign-in then reads no Management API. Unset or
 *                                empty: no claim. Set on every login of the clients below, with
 *                                no Management API call; a list over 2048 bytes of JSON is left
 *                                out (ID tokens travel in URLs and cookies elsewhere).
 *   IDENTITIES_CLIENT_IDS  optional  comma-separated client ids to add that claim for
 *                                (empty: the clients in CLIENT_IDS, or every client when that
 *                                is empty too)
 *
 * State per user, in app_metadata.linked_accounts:
 *   {"not_mine": ["<full user id>", ...], "not_now_until": <Unix seconds>}
 *
 * No npm packages: Node's global fetch only (Node 18 and later, Auth0's runtimes included).
 * Nothing here fails a login: whatever goes wrong is logged in one line and the login goes on.
 */

"use strict";

const CACHE_KEY = "linked-accounts-m2m";
const TOKEN_MARGIN_S = 60; // drop a cached M2M token this long before it expires
// A flow must finish within 20 s (Auth0's Actions limits): at most five calls of 3 s each.
const FETCH_TIMEOUT_MS = 3000;
const LINKING_TOKEN_LIFETIME_S = 300;
const MERGED_CLAIM = "https://linked-accounts/merged";
const CANDIDATE_FIELDS = "user_id,email,email_verified,identities,created_at,blocked";
const OTHER_FIELDS = "user_id,email,email_verified,identities,blocked,user_metadata,app_metadata";
const DAY_S = 86400;
// The identities claim's limit, in bytes of JSON: an ID token travels in URLs (a form_post or an
// implicit grant elsewhere) and in cookies (a host's session), where a few kilobytes is the most.
const IDENTITIES_CLAIM_MAX_BYTES = 2048;
// What the page reads of an identity and of its profileData: exactly READ_FIELDS and
// READ_PROFILE_FIELDS in linked_accounts/identities.py (the page parses the claim as it parses
// Auth0's answer, and carries no more of a person's profile than it shows). A unit test holds
// the two lists equal.
const IDENTITY_FIELDS = ["provider", "user_id", "connection", "isSocial"];
const PROFILE_FIELDS = ["email", "name", "username", "nickname"];

exports.onExecutePostLogin = async (event, api) => {
  const cfg = settings(event.secrets);
  const clientId = event.client && event.client.client_id;
  // Every login, the proof sign-in and logins that are not due included: it costs no call.
  setIdentitiesClaim(api, cfg, clientId, event.user && event.user.identities);
  const query = (event.request && event.request.query) || {};
  // The linking page's own proof sign-in (of the other account) runs this Action too: sending
  // it to the page again would never end.
  if (query.linked_accounts === "proof") return say("skip: the page's proof sign-in");
  if (cfg.clientIds.length && !cfg.clientIds.includes(clientId)) {
    return say("skip: not one of CLIENT_IDS");
  }
  const user = event.user || {};
  // Auth0's "verified email usage": an unverified email proves nothing about who owns it, and
  // is how an attacker would get a victim's account offered to them.
  if (!user.email || user.email_verified !== true) return say("skip: email not verified");
  const state = linkingState(user);
  const now = nowSeconds();
  const reason = due(event, state, now);
  // Not due: no Management API call at all. Every login of every user passes here, and the
  // tenant's rate limit is shared with everything else.
  if (!reason) return say("skip: not due");
  const missing = cfg.missing();
  if (missing.length) return say(`skip: secrets not set: ${missing.join(", ")}`);

  let candidates;
  try {
    const token = await managementToken(api, cfg);
    candidates = await findCandidates(api, cfg, token, user, state);
  } catch (err) {
    return say(`skip: lookup failed (${describe(err)})`);
  }
  if (reason === "not-now period over") {
    // Asked again once: without this, every later login would be due and cost a lookup.
    const rest = Object.assign({}, state);
    delete rest.not_now_until;
    api.user.setAppMetadata("linked_accounts", rest);
  }
  if (!candidates.length) return say(`skip: no candidate (${reason})`);

  const payload = {
    current_identity: Object.assign(accountOf(user, event.connection), {
      created_at: user.created_at,
    }),
    candidate_identities: candidates.map((c) =>
      Object.assign(accountOf(c), { created_at: c.created_at, email: c.email }),
    ),
  };
  const sessionToken = api.redirect.encodeToken({
    secret: cfg.linkingSecret,
    expiresInSeconds: LINKING_TOKEN_LIFETIME_S,
    payload,
  });
  api.redirect.sendUserTo(cfg.linkingUrl, { query: { session_token: sessionToken } });
  return say(`redirect: ${candidates.length} candidate(s) (${reason})`);
};

exports.onContinuePostLogin = async (event, api) => {
  const cfg = settings(event.secrets);
  const user = event.user || {};
  // Whether a claim set before the redirect survives it is not documented: set it again, from
  // the user as they are now. A link below replaces it with the linked list.
  setIdentitiesClaim(api, cfg, event.client && event.client.client_id, user.identities);
  let answer;
  try {
    // Checks the signature (HS256, our shared secret), expiry, and that the answer's `state` is
    // this suspended login's: a forged, stale or replayed answer throws.
    answer = api.redirect.validateToken({
      secret: cfg.linkingSecret,
      tokenParameterName: "session_token",
    });
  } catch (err) {
    return say("continue: answer refused (invalid token)");
  }
  if (!answer || typeof answer !== "object" || String(answer.sub) !== String(user.user_id)) {
    return say("continue: answer is for another user");
  }
  const state = linkingState(user);
  switch (answer.action) {
    case "link":
      return link(event, api, cfg, answer);
    case "not_now": {
      const until = nowSeconds() + Math.round(cfg.notNowDays * DAY_S);
      api.user.setAppMetadata("linked_accounts", Object.assign({}, state, { not_now_until: until }));
      return say(`continue: not now, asking again in ${cfg.notNowDays} day(s)`);
    }
    case "not_mine": {
      const added = Array.isArray(answer.candidates) ? answer.candidates.map(String) : [];
      const known = Array.isArray(state.not_mine) ? state.not_mine.map(String) : [];
      const notMine = Array.from(new Set(known.concat(added)));
      if (notMine.length === known.length) return say("continue: not mine, nothing new");
      api.user.setAppMetadata("linked_accounts", Object.assign({}, state, { not_mine: notMine }));
      return say(`continue: not mine, ${notMine.length - known.length} account(s) set aside`);
    }
    case "skip":
      return say("continue: skipped");
    default:
      return say("continue: unknown answer");
  }
};

/** Link the two accounts the answer names; one of them is the user signing in. */
async function link(event, api, cfg, answer) {
  const user = event.user;
  const me = String(user.user_id);
  const primaryId = idOf(answer.primary_identity);
  const secondaryId = idOf(answer.secondary_identity);
  if (!primaryId || !secondaryId || primaryId === secondaryId) {
    return say("link refused: the answer does not name two accounts");
  }
  if (primaryId !== me && secondaryId !== me) {
    return say("link refused: neither account is the one signing in");
  }
  const missing = cfg.missing();
  if (missing.length) return say(`link failed: secrets not set: ${missing.join(", ")}`);
  const otherId = primaryId === me ? secondaryId : primaryId;
  let token;
  let other;
  try {
    token = await managementToken(api, cfg);
    // Read the other account from Auth0, not from the answer: its email and verification now.
    other = await management(api, cfg, token, "GET", ["users", otherId], {
      query: { fields: OTHER_FIELDS, include_fields: "true" },
    });
  } catch (err) {
    return say(`link failed: reading the other account (${describe(err)})`);
  }
  if (!sameVerifiedEmail(user, other)) {
    return say("link refused: the other account's email is not the same verified email");
  }
  if (other.blocked === true) return say("link refused: the other account is blocked");
  const primary = primaryId === me ? user : other;
  const secondary = primaryId === me ? other : user;
  // An account with links of its own cannot become a secondary: its identities would be lost.
  if (!Array.isArray(secondary.identities) || secondary.identities.length !== 1) {
    return say("link refused: the account to merge has linked accounts of its own");
  }
  const provider = secondary.identities[0].provider;

  // The secondary's metadata is discarded by the link: copy it into the primary first, as
  // Auth0's server-side linking guide does, the primary's values winning. The secondary's own
  // linked_accounts state (its "not now") is about a login that ends here.
  const secondaryApp = Object.assign({}, secondary.app_metadata || {});
  delete secondaryApp.linked_accounts;
  const secondaryUser = secondary.user_metadata || {};
  const carried = Object.keys(secondaryApp).length + Object.keys(secondaryUser).length;
  try {
    if (carried) {
      await management(api, cfg, token, "PATCH", ["users", primaryId], {
        body: {
          user_metadata: Object.assign({}, secondaryUser, primary.user_metadata || {}),
          app_metadata: Object.assign({}, secondaryApp, primary.app_metadata || {}),
        },
      });
    }
  } catch (err) {
    return say(`link failed: merging metadata (${describe(err)})`);
  }
  let linked; // the primary's identities after the link, as Auth0 answered them
  try {
    // The server-side form: the secondary's provider and its id after the first "|" (which
    // may itself hold a "|": samlp|acme-saml|ada@acme.test).
    linked = await management(api, cfg, token, "POST", ["users", primaryId, "identities"], {
      body: { provider, user_id: secondaryId.slice(secondaryId.indexOf("|") + 1) },
    });
  } catch (err) {
    linked = await linkedAfterAll(api, cfg, token, primaryId, secondaryId, err);
    if (!linked) return say(`link failed: linking (${describe(err)})`);
  }
  // Auth0 does not switch users by itself: without this, the login would end as a user id that
  // no longer exists.
  if (primaryId !== me) api.authentication.setPrimaryUser(primaryId);
  // The ID token is the primary's now: its identities are the linked list, never the list of
  // the user this login began as. No list to put in it (too big, not Auth0's shape): null, so
  // that the one set earlier in this login does not stand for the wrong user.
  setIdentitiesClaim(api, cfg, event.client && event.client.client_id, linked, null);
  // The application this login ends at learns of the merge once, from its ID token.
  api.idToken.setCustomClaim(MERGED_CLAIM, { primary_id: primaryId, merged_id: secondaryId });
  return say(`linked: ${secondaryId} into ${primaryId}`);
}

/**
 * After a link call failed without a clear "no" (a timeout, a dropped connection, a 5xx, a 409),
 * Auth0 may have linked anyway: read the primary once to know. A 4xx other than 409 is a no.
 * Linked: the primary's identities as read; otherwise null.
 */
async function linkedAfterAll(api, cfg, token, primaryId, secondaryId, err) {
  const status = err && err.status;
  if (status && status >= 400 && status < 500 && status !== 409) return null;
  try {
    const primary = await management(api, cfg, token, "GET", ["users", primaryId], {
      query: { fields: "user_id,identities", include_fields: "true" },
    });
    const identities = (primary && primary.identities) || [];
    return identities.some((i) => `${i.provider}|${i.user_id}` === secondaryId) ? identities : null;
  } catch (_) {
    return null;
  }
}

/**
 * Put the person's identities in the ID token (the IDENTITIES_CLAIM secret), for the clients it
 * is asked for: Auth0's identities array as GET /api/v2/users/{id} answers it, the primary
 * first, each identity trimmed to what the page reads. Nothing to put (no list, too big):
 * `otherwise` is set when given, else nothing is, and a list too big says so in one line.
 */
function setIdentitiesClaim(api, cfg, clientId, identities, otherwise) {
  if (!cfg.identitiesClaim) return;
  const clients = cfg.identitiesClientIds.length ? cfg.identitiesClientIds : cfg.clientIds;
  if (clients.length && !clients.includes(clientId)) return;
  const value = trimmedIdentities(identities);
  let why = value ? null : "not a list of identities";
  if (value) {
    const size = Buffer.byteLength(JSON.stringify(value), "utf8");
    if (size > IDENTITIES_CLAIM_MAX_BYTES) {
      why = `${size} bytes of JSON, over ${IDENTITIES_CLAIM_MAX_BYTES}`;
    }
  }
  if (!why) return api.idToken.setCustomClaim(cfg.identitiesClaim, value);
  if (otherwise !== undefined) api.idToken.setCustomClaim(cfg.identitiesClaim, otherwise);
  say(`identities claim left out: ${why}`);
}

/** Auth0's identities with only IDENTITY_FIELDS, and of profileData only PROFILE_FIELDS (no
 * profileData when it has none of them); null for anything that is not a list of identities.
 * Values are kept as Auth0 gives them: GitHub's user_id stays a number. */
function trimmedIdentities(identities) {
  if (!Array.isArray(identities) || !identities.length) return null;
  const trimmed = [];
  for (const identity of identities) {
    if (!identity || typeof identity !== "object" || Array.isArray(identity)) return null;
    const kept = {};
    for (const field of IDENTITY_FIELDS) {
      if (identity[field] !== undefined) kept[field] = identity[field];
    }
    const profile = identity.profileData;
    if (profile && typeof profile === "object" && !Array.isArray(profile)) {
      const shown = {};
      for (const field of PROFILE_FIELDS) {
        if (profile[field] !== undefined) shown[field] = profile[field];
      }
      if (Object.keys(shown).length) kept.profileData = shown;
    }
    trimmed.push(kept);
  }
  return trimmed;
}

/** The other users with the person's verified email that could be linked into or with it. */
async function findCandidates(api, cfg, token, user, state) {
  // users-by-email is an exact, case-sensitive match; Auth0 keeps its own database emails in
  // lower case, other providers' as they send them: ask for both spellings.
  const spellings = [user.email];
  const lower = user.email.toLowerCase();
  if (lower !== user.email) spellings.push(lower);
  const found = new Map();
  for (const email of spellings) {
    const users = await management(api, cfg, token, "GET", ["users-by-email"], {
      query: { email, fields: CANDIDATE_FIELDS, include_fields: "true" },
    });
    if (!Array.isArray(users)) throw new Failure("users-by-email: not a list");
    for (const u of users) {
      if (u && u.user_id !== undefined) found.set(String(u.user_id), u);
    }
  }
  const me = String(user.user_id);
  const notMine = new Set((Array.isArray(state.not_mine) ? state.not_mine : []).map(String));
  return Array.from(found.values()).filter(
    (u) =>
      String(u.user_id) !== me &&
      u.email_verified === true &&
      u.blocked !== true &&
      // An account with links of its own cannot become a secondary, and which one stays is
      // the page's choice: offer only single accounts.
      Array.isArray(u.identities) &&
      u.identities.length === 1 &&
      !notMine.has(String(u.user_id)),
  );
}

/** A Management API token by client credentials, kept in api.cache until shortly before it
 * expires: one token request per cache lifetime, not per login. */
async function managementToken(api, cfg) {
  const cached = api.cache.get(CACHE_KEY);
  if (cached && typeof cached.value === "string" && !(cached.expires_at <= Date.now())) {
    return cached.value;
  }
  const body = await request("token", `${cfg.origin}/oauth/token`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({
      grant_type: "client_credentials",
      client_id: cfg.m2mClientId,
      client_secret: cfg.m2mClientSecret,
      audience: cfg.audience,
    }),
  });
  if (!body || typeof body.access_token !== "string") throw new Failure("token: not a token");
  const lifetime = Number(body.expires_in) - TOKEN_MARGIN_S;
  if (lifetime > 0) {
    api.cache.set(CACHE_KEY, body.access_token, { expires_at: Date.now() + lifetime * 1000 });
  }
  return body.access_token;
}

/** Call the Management API; every path segment is percent-encoded (a user id holds "|", and
 * may hold "/" or "#"). */
async function management(api, cfg, token, method, segments, { query, body } = {}) {
  const path = segments.map((s) => encodeURIComponent(String(s))).join("/");
  const search = query ? `?${new URLSearchParams(query)}` : "";
  const init = {
    method,
    headers: { authorization: `Bearer ${token}`, accept: "application/json" },
  };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  try {
    return await request(`${method} ${segments[0]}`, `${cfg.origin}/api/v2/${path}${search}`, init);
  } catch (err) {
    // A rejected token (revoked, or the client's grant changed) must not be served from the
    // cache again; the next due login fetches a new one. No retry here: the budget is spent.
    if (err.status === 401) api.cache.delete(CACHE_KEY);
    throw err;
  }
}

/** One request with a timeout; the JSON answer, or a Failure naming what failed (never the URL,
 * which holds an email or user id, nor the token). */
async function request(what, url, init) {
  let res;
  try {
    res = await fetch(url, Object.assign({}, init, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) }));
  } catch (err) {
    const timedOut = err && (err.name === "TimeoutError" || err.name === "AbortError");
    throw new Failure(`${what}: ${timedOut ? "timed out" : "network error"}`);
  }
  if (!res.ok) throw new Failure(`${what}: HTTP ${res.status}`, res.status);
  if (res.status === 204) return null;
  try {
    return await res.json();
  } catch (_) {
    throw new Failure(`${what}: answer is not JSON`);
  }
}

class Failure extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

function describe(err) {
  // Our own messages only: another error's message may quote a URL (an email, a user id).
  return err instanceof Failure ? err.message : `unexpected ${(err && err.name) || "error"}`;
}

/** Why this login is due for a lookup, or null when it is not. */
function due(event, state, now) {
  const count = Number(event.stats && event.stats.logins_count);
  // First login only, as the Account Link Extension did: "merging already active accounts can
  // be a destructive action". An account that has been used has data of its own under its id.
  if (Number.isFinite(count) && count <= 1) return "first login";
  const until = Number(state.not_now_until);
  if (state.not_now_until !== undefined && Number.isFinite(until) && until <= now) {
    return "not-now period over";
  }
  return null;
}

function settings(secrets) {
  const s = secrets || {};
  const text = (name) => (s[name] === undefined || s[name] === null ? "" : String(s[name]).trim());
  const list = (value) =>
    value
      .split(",")
      .map((c) => c.trim())
      .filter(Boolean);
  const domain = text("AUTH0_DOMAIN").replace(/\/+$/, "");
  const origin = domain.includes("://") ? domain : `https://${domain}`;
  const days = Number.parseFloat(text("NOT_NOW_DAYS"));
  const cfg = {
    linkingSecret: text("LINKING_SECRET"),
    linkingUrl: text("LINKING_URL"),
    origin,
    audience: `${origin}/api/v2/`,
    m2mClientId: text("M2M_CLIENT_ID"),
    m2mClientSecret: text("M2M_CLIENT_SECRET"),
    clientIds: list(text("CLIENT_IDS")),
    notNowDays: Number.isFinite(days) && days >= 0 ? days : 30,
    identitiesClaim: text("IDENTITIES_CLAIM"),
    identitiesClientIds: list(text("IDENTITIES_CLIENT_IDS")),
  };
  cfg.missing = () =>
    [
      ["LINKING_SECRET", cfg.linkingSecret],
      ["LINKING_URL", cfg.linkingUrl],
      ["AUTH0_DOMAIN", domain],
      ["M2M_CLIENT_ID", cfg.m2mClientId],
      ["M2M_CLIENT_SECRET", cfg.m2mClientSecret],
    ]
      .filter(([, value]) => !value)
      .map(([name]) => name);
  return cfg;
}

function linkingState(user) {
  const state = user && user.app_metadata && user.app_metadata.linked_accounts;
  return state && typeof state === "object" && !Array.isArray(state) ? state : {};
}

/** {user_id, provider, connection} of a user: its full id, and its primary identity's provider
 * and connection (identities[0] is the primary). */
function accountOf(user, connection) {
  const id = String(user.user_id);
  const primary = (Array.isArray(user.identities) && user.identities[0]) || {};
  return {
    user_id: id,
    provider: primary.provider || id.slice(0, id.indexOf("|")),
    connection: primary.connection || (connection && connection.name) || undefined,
  };
}

function idOf(identity) {
  if (!identity || typeof identity !== "object") return "";
  const id = identity.user_id;
  return typeof id === "string" || typeof id === "number" ? String(id) : "";
}

function sameVerifiedEmail(user, other) {
  return (
    user.email_verified === true &&
    other &&
    other.email_verified === true &&
    typeof other.email === "string" &&
    typeof user.email === "string" &&
    other.email.toLowerCase() === user.email.toLowerCase()
  );
}

function nowSeconds() {
  return Math.floor(Date.now() / 1000);
}

/** The one log line of each decision. It names what happened, never a token or a secret. */
function say(line) {
  console.log(`linked-accounts: ${line}`);
}
