// The post-login Action (linked_accounts/atlogin/action/link-accounts.js), run against a recording
// `api` and a small in-memory Auth0 served through a replaced globalThis.fetch.

"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");

const action = require(path.join(__dirname, "../../linked_accounts/atlogin/action/link-accounts.js"));
const { ORIGIN, SECRETS, FakeAuth0, fakeApi, makeEvent, makeUser, withAuth0 } = require("./fakes");

const MAYA = "auth0|6500a1b2c3d4e5f600000006"; // the older account
const MAYA_GITHUB = "github|8765432"; // her new account, signing in for the first time
const OLDER = "2023-05-06T07:08:09.000Z";
const NEWER = "2026-01-02T03:04:05.000Z";
const DAY = 86400;

function maya(overrides = {}) {
  return makeUser(MAYA, Object.assign({ created_at: OLDER }, overrides));
}

function mayaGithub(overrides = {}) {
  return makeUser(MAYA_GITHUB, Object.assign({ created_at: NEWER }, overrides));
}

/** Run onExecutePostLogin for `user` on `auth0`; return the api and the log lines. */
async function login(auth0, user, options = {}, api = fakeApi({ cache: options.cache })) {
  const event = makeEvent(user, options);
  const lines = await withAuth0(auth0, () => action.onExecutePostLogin(event, api));
  return { api, lines, event };
}

/** Run onContinuePostLogin for `user` with `answer` as validateToken's claims. */
async function resume(auth0, user, answer, options = {}) {
  const validate = options.validate || (() => Object.assign({ sub: user.user_id }, answer));
  const api = fakeApi({ validate, cache: options.cache });
  const event = makeEvent(user, Object.assign({ logins: 1 }, options));
  const lines = await withAuth0(auth0, () => action.onContinuePostLogin(event, api));
  return { api, lines, event };
}

function nowSeconds() {
  return Math.floor(Date.now() / 1000);
}

// ---------------------------------------------------------------------------------------------
// onExecutePostLogin: when it looks, and what it sends

test("a login that is not due makes no call at all", async () => {
  const auth0 = new FakeAuth0([maya(), mayaGithub()]);
  const { api, lines } = await login(auth0, mayaGithub(), { logins: 2 });
  assert.equal(auth0.requests.length, 0);
  assert.deepEqual(api.named("redirect.sendUserTo"), []);
  assert.deepEqual(api.named("cache.get"), []);
  assert.deepEqual(lines, ["linked-accounts: skip: not due"]);
});

test("a first login with a candidate redirects with the documented payload", async () => {
  const auth0 = new FakeAuth0([maya(), mayaGithub()]);
  const { api, lines } = await login(auth0, mayaGithub());

  const [token] = auth0.named("token");
  assert.deepEqual(token.body, {
    grant_type: "client_credentials",
    client_id: SECRETS.M2M_CLIENT_ID,
    client_secret: SECRETS.M2M_CLIENT_SECRET,
    audience: `${ORIGIN}/api/v2/`,
  });
  const lookups = auth0.named("users-by-email");
  assert.equal(lookups.length, 1);
  assert.deepEqual(lookups[0].query, {
    email: "maya@example.com",
    fields: "user_id,email,email_verified,identities,created_at,blocked",
    include_fields: "true",
  });
  assert.equal(lookups[0].headers.authorization, "Bearer m2m-token-1");

  const [[, encodeOptions, encoded]] = api.named("redirect.encodeToken");
  assert.equal(encodeOptions.secret, SECRETS.LINKING_SECRET);
  assert.equal(encodeOptions.expiresInSeconds, 300);
  assert.deepEqual(encodeOptions.payload, {
    current_identity: {
      user_id: MAYA_GITHUB,
      provider: "github",
      connection: "github",
      created_at: NEWER,
    },
    candidate_identities: [
      {
        user_id: MAYA,
        provider: "auth0",
        connection: "Username-Password-Authentication",
        created_at: OLDER,
        email: "maya@example.com",
      },
    ],
  });
  const redirects = api.named("redirect.sendUserTo");
  assert.equal(redirects.length, 1);
  assert.equal(redirects[0][1], SECRETS.LINKING_URL);
  assert.deepEqual(redirects[0][2], { query: { session_token: encoded } });
  assert.match(encoded, /^encoded-session-token-/);
  assert.deepEqual(lines, ["linked-accounts: redirect: 1 candidate(s) (first login)"]);
});

test("every call has a timeout", async () => {
  const auth0 = new FakeAuth0([maya(), mayaGithub()]);
  await login(auth0, mayaGithub());
  assert.ok(auth0.requests.length >= 2);
  for (const req of auth0.requests) {
    assert.ok(req.signal instanceof AbortSignal, `${req.endpoint} has no signal`);
  }
});

test("the M2M token is kept in api.cache and used on the next run", async () => {
  const cache = new Map();
  const auth0 = new FakeAuth0([maya(), mayaGithub(), makeUser("google-oauth2|1", { email: "maya@example.com" })]);
  const before = Date.now();
  const first = await login(auth0, mayaGithub(), { cache });
  const [[, key, value, options]] = first.api.named("cache.set");
  assert.equal(key, "linked-accounts-m2m");
  assert.equal(value, "m2m-token-1");
  // expires 60 s before the token (86,400 s)
  assert.ok(options.expires_at >= before + (86400 - 60) * 1000);
  assert.ok(options.expires_at <= Date.now() + (86400 - 60) * 1000);

  const second = await login(auth0, makeUser("google-oauth2|1", { email: "maya@example.com" }), { cache });
  assert.equal(auth0.named("token").length, 1);
  assert.deepEqual(second.api.named("cache.set"), []);
  const lookups = auth0.named("users-by-email");
  assert.equal(lookups.length, 2);
  assert.equal(lookups[1].headers.authorization, "Bearer m2m-token-1");
  assert.equal(second.api.named("redirect.sendUserTo").length, 1);
});

test("an expired cache entry is not used", async () => {
  const cache = new Map([["linked-accounts-m2m", { value: "old-token", expires_at: Date.now() - 1 }]]);
  const auth0 = new FakeAuth0([maya(), mayaGithub()]);
  const { api } = await login(auth0, mayaGithub(), { cache });
  assert.equal(auth0.named("token").length, 1);
  assert.equal(auth0.named("users-by-email")[0].headers.authorization, "Bearer m2m-token-1");
  assert.equal(api.named("redirect.sendUserTo").length, 1);
});

test("a rejected cached token is dropped from the cache, and the login goes on", async () => {
  const cache = new Map([["linked-accounts-m2m", { value: "revoked", expires_at: Date.now() + 60000 }]]);
  const auth0 = new FakeAuth0([maya(), mayaGithub()]);
  const { api, lines } = await login(auth0, mayaGithub(), { cache });
  assert.equal(auth0.named("users-by-email").length, 1); // no retry: the budget is spent
  assert.deepEqual(api.named("cache.delete"), [["cache.delete", "linked-accounts-m2m"]]);
  assert.equal(cache.has("linked-accounts-m2m"), false);
  assert.deepEqual(api.named("redirect.sendUserTo"), []);
  assert.deepEqual(lines, ["linked-accounts: skip: lookup failed (GET users-by-email: HTTP 401)"]);
});

for (const [name, user, options, line] of [
  ["an unverified email", mayaGithub({ email_verified: false }), {}, "email not verified"],
  ["no email", mayaGithub({ email: undefined }), {}, "email not verified"],
  [
    "a client not in CLIENT_IDS",
    mayaGithub(),
    { secrets: { CLIENT_IDS: "other-client, third-client" } },
    "not one of CLIENT_IDS",
  ],
  ["the page's proof sign-in", mayaGithub(), { query: { linked_accounts: "proof" } }, "the page's proof sign-in"],
  ["a missing secret", mayaGithub(), { secrets: { M2M_CLIENT_SECRET: "" } }, "secrets not set: M2M_CLIENT_SECRET"],
]) {
  test(`${name}: no call, no redirect`, async () => {
    const auth0 = new FakeAuth0([maya(), mayaGithub()]);
    const { api, lines } = await login(auth0, user, options);
    assert.equal(auth0.requests.length, 0);
    assert.deepEqual(api.named("redirect.sendUserTo"), []);
    assert.deepEqual(lines, [`linked-accounts: skip: ${line}`]);
  });
}

test("a client in CLIENT_IDS is acted for", async () => {
  const auth0 = new FakeAuth0([maya(), mayaGithub()]);
  const { api } = await login(auth0, mayaGithub(), {
    clientId: "app-client",
    secrets: { CLIENT_IDS: "other-client,app-client" },
  });
  assert.equal(api.named("redirect.sendUserTo").length, 1);
});

for (const [name, candidate, state] of [
  ["a candidate the person said is not theirs", maya(), { not_mine: [MAYA] }],
  ["a blocked candidate", maya({ blocked: true }), {}],
  ["a candidate whose email is not verified", maya({ email_verified: false }), {}],
  [
    "a candidate with links of its own (2 identities)",
    maya({
      identities: [
        { provider: "auth0", connection: "Username-Password-Authentication", user_id: MAYA.slice(6) },
        { provider: "google-oauth2", connection: "google-oauth2", user_id: "55" },
      ],
    }),
    {},
  ],
]) {
  test(`${name} is not offered`, async () => {
    const auth0 = new FakeAuth0([candidate, mayaGithub()]);
    const user = mayaGithub({ app_metadata: { linked_accounts: state } });
    const { api, lines } = await login(auth0, user);
    assert.equal(auth0.named("users-by-email").length, 1); // it did look
    assert.deepEqual(api.named("redirect.encodeToken"), []);
    assert.deepEqual(api.named("redirect.sendUserTo"), []);
    assert.deepEqual(lines, ["linked-accounts: skip: no candidate (first login)"]);
  });
}

test("the signed-in user is not its own candidate", async () => {
  const auth0 = new FakeAuth0([mayaGithub()]);
  const { api } = await login(auth0, mayaGithub());
  assert.deepEqual(api.named("redirect.sendUserTo"), []);
});

test("an email with capitals is looked up again in lower case (users-by-email is case-sensitive)", async () => {
  const auth0 = new FakeAuth0([maya(), mayaGithub({ email: "Maya@Example.COM" })]);
  const { api } = await login(auth0, mayaGithub({ email: "Maya@Example.COM" }));
  assert.deepEqual(
    auth0.named("users-by-email").map((r) => r.query.email),
    ["Maya@Example.COM", "maya@example.com"],
  );
  const [[, { payload }]] = api.named("redirect.encodeToken");
  assert.deepEqual(payload.candidate_identities.map((c) => c.user_id), [MAYA]);
});

test("a lower-case email is looked up once", async () => {
  const auth0 = new FakeAuth0([maya(), mayaGithub()]);
  await login(auth0, mayaGithub());
  assert.equal(auth0.named("users-by-email").length, 1);
});

for (const [name, fault, line] of [
  ["users-by-email answering 500", { "users-by-email": 500 }, "GET users-by-email: HTTP 500"],
  ["users-by-email unreachable", { "users-by-email": "network" }, "GET users-by-email: network error"],
  ["the token endpoint answering 429", { token: 429 }, "token: HTTP 429"],
  ["users-by-email answering something else than JSON", {
    "users-by-email": () => "not-json",
  }, null],
]) {
  test(`${name}: the login goes on`, async () => {
    const auth0 = new FakeAuth0([maya(), mayaGithub()]);
    if (typeof fault["users-by-email"] === "function") {
      auth0.fetch = async (url, init) => {
        auth0.requests.push({ url, endpoint: "raw" });
        if (String(url).includes("/oauth/token")) {
          return new Response(JSON.stringify({ access_token: "t", expires_in: 86400 }), { status: 200 });
        }
        return new Response("<html>oops</html>", { status: 200, headers: { "content-type": "text/html" } });
      };
    } else {
      auth0.faults = fault;
    }
    const { api, lines } = await login(auth0, mayaGithub());
    assert.deepEqual(api.named("redirect.sendUserTo"), []);
    assert.deepEqual(api.named("access.deny"), []);
    assert.deepEqual(api.named("user.setAppMetadata"), []);
    assert.equal(lines.length, 1);
    const expected = line || "GET users-by-email: answer is not JSON";
    assert.equal(lines[0], `linked-accounts: skip: lookup failed (${expected})`);
  });
}

test("after 'not now', the login is due again once its period is over", async () => {
  const auth0 = new FakeAuth0([maya(), mayaGithub()]);
  const waiting = mayaGithub({ app_metadata: { linked_accounts: { not_now_until: nowSeconds() + DAY, not_mine: ["x|1"] } } });
  const early = await login(auth0, waiting, { logins: 5 });
  assert.equal(auth0.requests.length, 0);
  assert.deepEqual(early.lines, ["linked-accounts: skip: not due"]);

  const over = mayaGithub({ app_metadata: { linked_accounts: { not_now_until: nowSeconds() - 1, not_mine: ["x|1"] } } });
  const later = await login(auth0, over, { logins: 5 });
  assert.equal(auth0.named("users-by-email").length, 1);
  assert.equal(later.api.named("redirect.sendUserTo").length, 1);
  // asked once: the period is cleared, so the following logins are not due again
  assert.deepEqual(later.api.named("user.setAppMetadata"), [
    ["user.setAppMetadata", "linked_accounts", { not_mine: ["x|1"] }],
  ]);
  assert.deepEqual(later.lines, ["linked-accounts: redirect: 1 candidate(s) (not-now period over)"]);
});

test("a period that is over with no candidate left is cleared too", async () => {
  const auth0 = new FakeAuth0([mayaGithub()]);
  const over = mayaGithub({ app_metadata: { linked_accounts: { not_now_until: nowSeconds() - 1 } } });
  const { api } = await login(auth0, over, { logins: 3 });
  assert.deepEqual(api.named("user.setAppMetadata"), [["user.setAppMetadata", "linked_accounts", {}]]);
  assert.deepEqual(api.named("redirect.sendUserTo"), []);
});

test("NOT_NOW_DAYS and the domain's scheme are read from the secrets", async () => {
  const auth0 = new FakeAuth0([maya(), mayaGithub()]);
  // A domain with a scheme is the origin as it is (the development tenant's http://127.0.0.1:port).
  const { api } = await login(auth0, mayaGithub(), { secrets: { AUTH0_DOMAIN: `${ORIGIN}/` } });
  assert.equal(auth0.named("token")[0].body.audience, `${ORIGIN}/api/v2/`);
  assert.equal(api.named("redirect.sendUserTo").length, 1);
});

test("no log line holds a token or a secret", async () => {
  const auth0 = new FakeAuth0([maya(), mayaGithub()]);
  const { api, lines } = await login(auth0, mayaGithub());
  const encoded = api.named("redirect.sendUserTo")[0][2].query.session_token;
  const linked = await resume(auth0, mayaGithub(), {
    action: "link",
    primary_identity: { user_id: MAYA, provider: "auth0", connection: "Username-Password-Authentication" },
    secondary_identity: { user_id: MAYA_GITHUB, provider: "github", connection: "github" },
  });
  for (const line of [...lines, ...linked.lines]) {
    for (const secret of [SECRETS.LINKING_SECRET, SECRETS.M2M_CLIENT_SECRET, encoded, ...auth0.issued]) {
      assert.ok(!line.includes(secret), `${line} holds a secret`);
    }
  }
  assert.equal(linked.lines.length, 1);
});

// ---------------------------------------------------------------------------------------------
// onContinuePostLogin: the page's answer

const LINK_OLDER_PRIMARY = {
  action: "link",
  primary_identity: { user_id: MAYA, provider: "auth0", connection: "Username-Password-Authentication" },
  secondary_identity: { user_id: MAYA_GITHUB, provider: "github", connection: "github" },
};

test("link: the older account stays, metadata merged first, the login switches to it", async () => {
  const older = maya({
    user_metadata: { theme: "dark", lang: "de" },
    app_metadata: { plan: "pro", linked_accounts: { not_mine: ["a|1"] } },
  });
  const newer = mayaGithub({
    user_metadata: { theme: "light", nickname: "m" },
    app_metadata: { plan: "free", billing: "cus_1", linked_accounts: { not_now_until: 5 } },
  });
  const auth0 = new FakeAuth0([older, newer]);
  const { api, lines } = await resume(auth0, newer, LINK_OLDER_PRIMARY);

  assert.deepEqual(
    auth0.requests.map((r) => r.endpoint),
    ["token", "get-user", "patch-user", "link"],
  );
  const [read, patch, post] = auth0.requests.slice(1);
  assert.equal(read.rawPath, `${ORIGIN}/api/v2/users/auth0%7C6500a1b2c3d4e5f600000006`);
  assert.equal(patch.rawPath, `${ORIGIN}/api/v2/users/auth0%7C6500a1b2c3d4e5f600000006`);
  assert.deepEqual(patch.body, {
    user_metadata: { theme: "dark", nickname: "m", lang: "de" },
    app_metadata: { plan: "pro", billing: "cus_1", linked_accounts: { not_mine: ["a|1"] } },
  });
  assert.equal(post.rawPath, `${ORIGIN}/api/v2/users/auth0%7C6500a1b2c3d4e5f600000006/identities`);
  assert.deepEqual(post.body, { provider: "github", user_id: "8765432" });

  assert.deepEqual(api.named("authentication.setPrimaryUser"), [["authentication.setPrimaryUser", MAYA]]);
  assert.deepEqual(api.named("idToken.setCustomClaim"), [
    ["idToken.setCustomClaim", "https://linked-accounts/merged", { primary_id: MAYA, merged_id: MAYA_GITHUB }],
  ]);
  const [[, options]] = api.named("redirect.validateToken");
  assert.deepEqual(options, { secret: SECRETS.LINKING_SECRET, tokenParameterName: "session_token" });
  assert.deepEqual(auth0.user(MAYA).identities.map((i) => i.provider), ["auth0", "github"]);
  assert.equal(auth0.user(MAYA_GITHUB), undefined);
  assert.deepEqual(lines, [`linked-accounts: linked: ${MAYA_GITHUB} into ${MAYA}`]);
});

test("link: when the signed-in account stays, no switch", async () => {
  // The signed-in account is the older one here; the other becomes its secondary.
  const older = maya({ app_metadata: { plan: "pro" } });
  const newer = mayaGithub({
    user_metadata: { nickname: "m" },
    app_metadata: { linked_accounts: { not_now_until: 5 } }, // about a login that ends here
  });
  const auth0 = new FakeAuth0([older, newer]);
  const { api } = await resume(auth0, older, LINK_OLDER_PRIMARY);
  const read = auth0.named("get-user")[0];
  assert.equal(read.rawPath, `${ORIGIN}/api/v2/users/github%7C8765432`);
  assert.deepEqual(auth0.named("patch-user")[0].body, {
    user_metadata: { nickname: "m" },
    app_metadata: { plan: "pro" },
  });
  assert.deepEqual(auth0.named("link")[0].body, { provider: "github", user_id: "8765432" });
  assert.deepEqual(api.named("authentication.setPrimaryUser"), []);
  assert.equal(api.named("idToken.setCustomClaim").length, 1);
});

test("link: nothing to carry over, no metadata write", async () => {
  const auth0 = new FakeAuth0([maya(), mayaGithub()]);
  await resume(auth0, mayaGithub(), LINK_OLDER_PRIMARY);
  assert.deepEqual(auth0.requests.map((r) => r.endpoint), ["token", "get-user", "link"]);
});

test("link: an identity id holding '|' and '/' is split at the first '|' and encoded", async () => {
  const saml = makeUser("samlp|acme-saml|ada/x#1@acme.test", { email: "maya@example.com", created_at: NEWER });
  const auth0 = new FakeAuth0([maya(), saml]);
  const answer = {
    action: "link",
    primary_identity: { user_id: MAYA, provider: "auth0", connection: "Username-Password-Authentication" },
    secondary_identity: { user_id: saml.user_id, provider: "samlp", connection: "acme-saml" },
  };
  const { api } = await resume(auth0, saml, answer);
  assert.deepEqual(auth0.named("link")[0].body, { provider: "samlp", user_id: "acme-saml|ada/x#1@acme.test" });
  assert.deepEqual(api.named("authentication.setPrimaryUser"), [["authentication.setPrimaryUser", MAYA]]);
});

test("link: a metadata write that fails stops before the link", async () => {
  const auth0 = new FakeAuth0([maya(), mayaGithub({ user_metadata: { a: 1 } })]);
  auth0.faults = { "patch-user": 500 };
  const { api, lines } = await resume(auth0, mayaGithub({ user_metadata: { a: 1 } }), LINK_OLDER_PRIMARY);
  assert.deepEqual(auth0.named("link"), []);
  assert.deepEqual(api.named("authentication.setPrimaryUser"), []);
  assert.deepEqual(api.named("idToken.setCustomClaim"), []);
  assert.deepEqual(lines, ["linked-accounts: link failed: merging metadata (PATCH users: HTTP 500)"]);
});

test("link: a refused link call leaves the login as it is", async () => {
  const auth0 = new FakeAuth0([maya(), mayaGithub()]);
  auth0.faults = { link: 400 };
  const { api } = await resume(auth0, mayaGithub(), LINK_OLDER_PRIMARY);
  assert.deepEqual(auth0.named("get-user").length, 1); // a 400 is a no: nothing re-read
  assert.deepEqual(api.named("authentication.setPrimaryUser"), []);
  assert.deepEqual(api.named("idToken.setCustomClaim"), []);
});

test("link: an answer lost after Auth0 linked is found by one re-read, and the login switches", async () => {
  const auth0 = new FakeAuth0([maya(), mayaGithub()]);
  auth0.faults = {
    link: (req, fake) => {
      fake.answer(req); // Auth0 links, then the connection drops
      return "network";
    },
  };
  const { api, lines } = await resume(auth0, mayaGithub(), LINK_OLDER_PRIMARY);
  assert.equal(auth0.named("get-user").length, 2);
  assert.deepEqual(api.named("authentication.setPrimaryUser"), [["authentication.setPrimaryUser", MAYA]]);
  assert.equal(api.named("idToken.setCustomClaim").length, 1);
  assert.deepEqual(lines, [`linked-accounts: linked: ${MAYA_GITHUB} into ${MAYA}`]);
});

test("link: an answer lost before Auth0 linked is not taken for a link", async () => {
  const auth0 = new FakeAuth0([maya(), mayaGithub()]);
  auth0.faults = { link: 503 };
  const { api, lines } = await resume(auth0, mayaGithub(), LINK_OLDER_PRIMARY);
  assert.equal(auth0.named("get-user").length, 2);
  assert.deepEqual(api.named("authentication.setPrimaryUser"), []);
  assert.deepEqual(lines, ["linked-accounts: link failed: linking (POST users: HTTP 503)"]);
});

for (const [name, setup, line] of [
  [
    "an answer whose sub is another user",
    { validate: () => Object.assign({ sub: "auth0|someone-else" }, LINK_OLDER_PRIMARY) },
    "continue: answer is for another user",
  ],
  [
    "an answer validateToken refuses",
    { validate: () => { throw new Error("Invalid token: state mismatch"); } },
    "continue: answer refused (invalid token)",
  ],
  [
    "an answer naming two other accounts",
    {
      answer: {
        action: "link",
        primary_identity: { user_id: MAYA, provider: "auth0" },
        secondary_identity: { user_id: "google-oauth2|9", provider: "google-oauth2" },
      },
    },
    "link refused: neither account is the one signing in",
  ],
]) {
  test(`${name}: no call, no link`, async () => {
    const auth0 = new FakeAuth0([maya(), mayaGithub()]);
    const { api, lines } = await resume(auth0, mayaGithub(), setup.answer || LINK_OLDER_PRIMARY, setup);
    assert.equal(auth0.requests.length, 0);
    for (const name of ["authentication.setPrimaryUser", "idToken.setCustomClaim", "user.setAppMetadata"]) {
      assert.deepEqual(api.named(name), []);
    }
    assert.deepEqual(lines, [`linked-accounts: ${line}`]);
  });
}

for (const [name, other, line] of [
  ["whose email differs", maya({ email: "someone@example.com" }), "the other account's email is not the same verified email"],
  ["whose email is not verified", maya({ email_verified: false }), "the other account's email is not the same verified email"],
  ["that is blocked", maya({ blocked: true }), "the other account is blocked"],
]) {
  test(`link: another account ${name} is not linked`, async () => {
    const auth0 = new FakeAuth0([other, mayaGithub()]);
    const { api, lines } = await resume(auth0, mayaGithub(), LINK_OLDER_PRIMARY);
    assert.deepEqual(auth0.requests.map((r) => r.endpoint), ["token", "get-user"]);
    assert.deepEqual(api.named("authentication.setPrimaryUser"), []);
    assert.deepEqual(api.named("idToken.setCustomClaim"), []);
    assert.deepEqual(lines, [`linked-accounts: link refused: ${line}`]);
  });
}

test("link: the other account's email matches case-insensitively", async () => {
  const auth0 = new FakeAuth0([maya({ email: "MAYA@example.com" }), mayaGithub()]);
  const { api } = await resume(auth0, mayaGithub(), LINK_OLDER_PRIMARY);
  assert.equal(auth0.named("link").length, 1);
  assert.equal(api.named("authentication.setPrimaryUser").length, 1);
});

test("link: a secondary with links of its own is not merged", async () => {
  const linked = mayaGithub({
    identities: [
      { provider: "github", connection: "github", user_id: "8765432" },
      { provider: "google-oauth2", connection: "google-oauth2", user_id: "77" },
    ],
  });
  const auth0 = new FakeAuth0([maya(), linked]);
  const { lines } = await resume(auth0, linked, LINK_OLDER_PRIMARY);
  assert.deepEqual(auth0.named("link"), []);
  assert.deepEqual(lines, ["linked-accounts: link refused: the account to merge has linked accounts of its own"]);
});

test("not now: asked again after NOT_NOW_DAYS, the rest of the state kept", async () => {
  const auth0 = new FakeAuth0([]);
  const user = mayaGithub({ app_metadata: { linked_accounts: { not_mine: ["a|1"] }, plan: "x" } });
  const before = nowSeconds();
  const { api } = await resume(auth0, user, { action: "not_now" }, { secrets: { NOT_NOW_DAYS: "7" } });
  const [[, key, value]] = api.named("user.setAppMetadata");
  assert.equal(key, "linked_accounts");
  assert.deepEqual(value.not_mine, ["a|1"]);
  assert.ok(value.not_now_until >= before + 7 * DAY && value.not_now_until <= nowSeconds() + 7 * DAY);
  assert.equal(auth0.requests.length, 0);
});

test("not now: 30 days by default", async () => {
  const before = nowSeconds();
  const { api } = await resume(new FakeAuth0([]), mayaGithub(), { action: "not_now" });
  const [[, , value]] = api.named("user.setAppMetadata");
  assert.ok(value.not_now_until >= before + 30 * DAY && value.not_now_until <= nowSeconds() + 30 * DAY);
});

test("not mine: the accounts are set aside, without duplicates", async () => {
  const user = mayaGithub({ app_metadata: { linked_accounts: { not_mine: [MAYA], not_now_until: 9 } } });
  const { api } = await resume(new FakeAuth0([]), user, {
    action: "not_mine",
    candidates: [MAYA, "google-oauth2|300000000000000000003"],
  });
  assert.deepEqual(api.named("user.setAppMetadata"), [
    [
      "user.setAppMetadata",
      "linked_accounts",
      { not_mine: [MAYA, "google-oauth2|300000000000000000003"], not_now_until: 9 },
    ],
  ]);
});

test("skip: nothing is written", async () => {
  const auth0 = new FakeAuth0([maya(), mayaGithub()]);
  const { api, lines } = await resume(auth0, mayaGithub(), { action: "skip" });
  assert.equal(auth0.requests.length, 0);
  assert.deepEqual(api.named("user.setAppMetadata"), []);
  assert.deepEqual(api.named("authentication.setPrimaryUser"), []);
  assert.deepEqual(lines, ["linked-accounts: continue: skipped"]);
});
