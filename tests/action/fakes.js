// Fakes for the post-login Action's unit tests: a recording `api` object, and a small in-memory
// Auth0 (/oauth/token, users-by-email, users/{id}, PATCH users/{id}, POST users/{id}/identities)
// served through a fake `fetch`. Not a test file itself (node --test runs *.test.js).

"use strict";

const DOMAIN = "tenant.example.auth0.com";
const ORIGIN = `https://${DOMAIN}`;
const SECRETS = Object.freeze({
  LINKING_SECRET: "linking-secret-0123456789abcdef0123456789abcdef",
  LINKING_URL: "https://app.example.com/account/at-login",
  AUTH0_DOMAIN: DOMAIN,
  M2M_CLIENT_ID: "action-m2m",
  M2M_CLIENT_SECRET: "action-m2m-secret-do-not-log",
});

/** The recording `api` of a post-login Action. `validate` stands in for validateToken. */
function fakeApi({ cache = new Map(), validate } = {}) {
  const calls = [];
  const record = (name) => (...args) => {
    calls.push([name, ...args]);
  };
  const api = {
    calls,
    cache: {
      get(key) {
        calls.push(["cache.get", key]);
        return cache.get(key);
      },
      set(key, value, options) {
        calls.push(["cache.set", key, value, options]);
        cache.set(key, { value, expires_at: options && options.expires_at });
        return { type: "success" };
      },
      delete(key) {
        calls.push(["cache.delete", key]);
        cache.delete(key);
        return { type: "success" };
      },
    },
    redirect: {
      sendUserTo: record("redirect.sendUserTo"),
      encodeToken(options) {
        const token = `encoded-session-token-${calls.length}`;
        calls.push(["redirect.encodeToken", options, token]);
        return token;
      },
      validateToken(options) {
        calls.push(["redirect.validateToken", options]);
        if (!validate) throw new Error("no answer");
        return validate(options);
      },
    },
    user: { setAppMetadata: record("user.setAppMetadata"), setUserMetadata: record("user.setUserMetadata") },
    authentication: { setPrimaryUser: record("authentication.setPrimaryUser") },
    idToken: { setCustomClaim: record("idToken.setCustomClaim") },
    accessToken: { setCustomClaim: record("accessToken.setCustomClaim") },
    access: { deny: record("access.deny") },
  };
  api.named = (name) => calls.filter((c) => c[0] === name);
  return api;
}

function json(status, body) {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

function pick(user, fields) {
  if (!fields) return structuredClone(user);
  const out = {};
  for (const f of fields.split(",")) if (f in user) out[f] = structuredClone(user[f]);
  return out;
}

/**
 * A small Auth0 as strict as the Action needs: client credentials checked, the audience too,
 * bearer tokens required, a raw "|" in a path refused (segments must be percent-encoded),
 * users-by-email case-sensitive. `faults` maps an endpoint name ("token", "users-by-email",
 * "get-user", "patch-user", "link") to a status or "network" (or a function of the request).
 */
class FakeAuth0 {
  constructor(users = []) {
    this.users = new Map(users.map((u) => [u.user_id, structuredClone(u)]));
    this.requests = [];
    this.faults = {};
    this.issued = [];
    this.fetch = this.fetch.bind(this);
  }

  user(id) {
    return this.users.get(id);
  }

  named(name) {
    return this.requests.filter((r) => r.endpoint === name);
  }

  async fetch(url, init = {}) {
    const method = (init.method || "GET").toUpperCase();
    const [rawPath, rawQuery = ""] = String(url).split("?");
    const headers = Object.fromEntries(
      Object.entries(init.headers || {}).map(([k, v]) => [k.toLowerCase(), v]),
    );
    const req = {
      method,
      url: String(url),
      rawPath,
      query: Object.fromEntries(new URLSearchParams(rawQuery)),
      headers,
      body: init.body === undefined ? undefined : JSON.parse(init.body),
      signal: init.signal,
    };
    req.endpoint = this.endpoint(req);
    this.requests.push(req);
    const fault = typeof this.faults[req.endpoint] === "function"
      ? this.faults[req.endpoint](req, this)
      : this.faults[req.endpoint];
    if (fault === "network") throw new TypeError("fetch failed");
    if (typeof fault === "number") return json(fault, { statusCode: fault, error: "Fault", message: "fault" });
    return this.answer(req);
  }

  endpoint(req) {
    const path = req.rawPath.slice(ORIGIN.length);
    if (!req.rawPath.startsWith(ORIGIN)) return "elsewhere";
    if (path === "/oauth/token") return "token";
    if (path === "/api/v2/users-by-email") return "users-by-email";
    if (/^\/api\/v2\/users\/[^/]+\/identities$/.test(path)) return "link";
    if (/^\/api\/v2\/users\/[^/]+$/.test(path)) return req.method === "PATCH" ? "patch-user" : "get-user";
    return "unknown";
  }

  answer(req) {
    const path = req.rawPath.slice(ORIGIN.length);
    if (req.endpoint === "token") {
      const b = req.body || {};
      if (b.grant_type !== "client_credentials" || b.client_id !== SECRETS.M2M_CLIENT_ID ||
          b.client_secret !== SECRETS.M2M_CLIENT_SECRET) {
        return json(401, { error: "access_denied", error_description: "Unauthorized" });
      }
      if (b.audience !== `${ORIGIN}/api/v2/`) {
        return json(403, { error: "access_denied", error_description: "Service not found" });
      }
      const token = `m2m-token-${this.issued.length + 1}`;
      this.issued.push(token);
      return json(200, { access_token: token, expires_in: 86400, token_type: "Bearer" });
    }
    if (!this.issued.some((t) => req.headers.authorization === `Bearer ${t}`)) {
      return json(401, { statusCode: 401, error: "Unauthorized", message: "Invalid token" });
    }
    if (path.includes("|")) {
      return json(400, { statusCode: 400, error: "Bad Request", message: "Invalid request URI" });
    }
    const segments = path.split("/").slice(3).map(decodeURIComponent); // after /api/v2
    if (req.endpoint === "users-by-email") {
      const found = [...this.users.values()].filter((u) => u.email === req.query.email);
      return json(200, found.map((u) => pick(u, req.query.fields)));
    }
    const user = this.users.get(segments[1]);
    if (!user) {
      return json(404, { statusCode: 404, error: "Not Found", message: "The user does not exist.", errorCode: "inexistent_user" });
    }
    if (req.endpoint === "get-user") return json(200, pick(user, req.query.fields));
    if (req.endpoint === "patch-user") {
      for (const key of ["user_metadata", "app_metadata"]) {
        if (req.body[key]) user[key] = Object.assign({}, user[key] || {}, req.body[key]);
      }
      return json(200, structuredClone(user));
    }
    if (req.endpoint === "link") {
      const { provider, user_id: identityId } = req.body || {};
      const secondaryId = `${provider}|${identityId}`;
      const secondary = this.users.get(secondaryId);
      if (!secondary) return json(400, { statusCode: 400, error: "Bad Request", message: "The identity does not exist." });
      user.identities.push(...secondary.identities);
      this.users.delete(secondaryId);
      return json(201, structuredClone(user.identities));
    }
    return json(404, { statusCode: 404, error: "Not Found", message: "Not Found" });
  }
}

/** An Auth0 user as users/{id} answers it, with one identity derived from its id. */
function makeUser(userId, overrides = {}) {
  const cut = userId.indexOf("|");
  const provider = userId.slice(0, cut);
  const connections = { auth0: "Username-Password-Authentication", samlp: "acme-saml" };
  return Object.assign(
    {
      user_id: userId,
      email: "maya@example.com",
      email_verified: true,
      created_at: "2024-01-02T03:04:05.000Z",
      identities: [
        { provider, connection: connections[provider] || provider, user_id: userId.slice(cut + 1), isSocial: provider !== "auth0" },
      ],
      user_metadata: {},
      app_metadata: {},
    },
    overrides,
  );
}

/** A post-login event for `user` (counting this login), with the default secrets. */
function makeEvent(user, { logins = 1, clientId = "app-client", query = {}, secrets = {} } = {}) {
  return {
    user: structuredClone(user),
    stats: { logins_count: logins },
    client: { client_id: clientId, name: "App" },
    connection: { name: user.identities[0].connection, strategy: user.identities[0].provider },
    request: { query: structuredClone(query), ip: "127.0.0.1" },
    transaction: { state: "transaction-state" },
    secrets: Object.assign({}, SECRETS, secrets),
  };
}

/** Run `fn` with globalThis.fetch replaced by `auth0.fetch` and console.log recorded. */
async function withAuth0(auth0, fn) {
  const realFetch = globalThis.fetch;
  const realLog = console.log;
  const lines = [];
  globalThis.fetch = auth0.fetch;
  console.log = (...args) => lines.push(args.join(" "));
  try {
    await fn();
  } finally {
    globalThis.fetch = realFetch;
    console.log = realLog;
  }
  return lines;
}

module.exports = { DOMAIN, ORIGIN, SECRETS, FakeAuth0, fakeApi, makeEvent, makeUser, withAuth0 };
