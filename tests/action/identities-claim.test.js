// The identities claim of the post-login Action: with IDENTITIES_CLAIM set, every login's ID token
// carries the person's identities as the settings page reads them, so its first view needs no
// Management API read; after a link, the list of the user the login ends as.

"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");

const action = require(path.join(__dirname, "../../linked_accounts/atlogin/action/link-accounts.js"));
const { FakeAuth0, fakeApi, makeEvent, makeUser, withAuth0 } = require("./fakes");

const CLAIM = "https://linked-accounts/identities";
const MERGED = "https://linked-accounts/merged";
const MAYA = "auth0|6500a1b2c3d4e5f600000006";
const MAYA_GITHUB = "github|8765432";
const WITH_CLAIM = { IDENTITIES_CLAIM: CLAIM };

function maya(overrides = {}) {
  return makeUser(MAYA, Object.assign({ created_at: "2023-05-06T07:08:09.000Z" }, overrides));
}

function mayaGithub(overrides = {}) {
  return makeUser(MAYA_GITHUB, Object.assign({ created_at: "2026-01-02T03:04:05.000Z" }, overrides));
}

async function login(auth0, user, options = {}) {
  const api = fakeApi();
  const event = makeEvent(user, Object.assign({ logins: 2 }, options, {
    secrets: Object.assign({}, WITH_CLAIM, options.secrets),
  }));
  const lines = await withAuth0(auth0, () => action.onExecutePostLogin(event, api));
  return { api, lines };
}

async function resume(auth0, user, answer, options = {}) {
  const api = fakeApi({ validate: () => Object.assign({ sub: user.user_id }, answer) });
  const event = makeEvent(user, Object.assign({ logins: 1 }, options, {
    secrets: Object.assign({}, WITH_CLAIM, options.secrets),
  }));
  const lines = await withAuth0(auth0, () => action.onContinuePostLogin(event, api));
  return { api, lines };
}

/** Every value the Action gave the identities claim, in order. */
function claims(api) {
  return api.named("idToken.setCustomClaim").filter((c) => c[1] === CLAIM).map((c) => c[2]);
}

/** Auth0's identities array as GET /api/v2/users/{id} answers it for a user with three: the
 * primary (no profileData, as Auth0 sends it), a GitHub secondary (a numeric user_id) and a
 * Google one, each secondary with more profile than the page shows. */
function threeIdentities() {
  return [
    { provider: "auth0", user_id: MAYA.slice(6), connection: "Username-Password-Authentication", isSocial: false },
    {
      provider: "github",
      user_id: 8765432,
      connection: "github",
      isSocial: true,
      access_token: "gho_never-in-a-token", // only with read:user_idp_tokens; never passed on
      profileData: {
        email: "maya@example.com",
        email_verified: true,
        name: "Maya Patel",
        nickname: "maya-patel",
        picture: "https://avatars.example.com/u/8765432",
        followers: 12,
      },
    },
    {
      provider: "google-oauth2",
      user_id: "104020304050607080901",
      connection: "google-oauth2",
      isSocial: true,
      profileData: {
        email: "maya.patel@example.com",
        given_name: "Maya",
        family_name: "Patel",
        locale: "en",
      },
    },
  ];
}

const THREE_AS_CLAIMED = [
  { provider: "auth0", user_id: MAYA.slice(6), connection: "Username-Password-Authentication", isSocial: false },
  {
    provider: "github",
    user_id: 8765432,
    connection: "github",
    isSocial: true,
    profileData: { email: "maya@example.com", name: "Maya Patel", nickname: "maya-patel" },
  },
  {
    provider: "google-oauth2",
    user_id: "104020304050607080901",
    connection: "google-oauth2",
    isSocial: true,
    profileData: { email: "maya.patel@example.com" },
  },
];

// ---------------------------------------------------------------------------------------------
// At every login

test("a login that is not due carries the identities, trimmed, primary first, with no call", async () => {
  const auth0 = new FakeAuth0([maya({ identities: threeIdentities() })]);
  const { api, lines } = await login(auth0, maya({ identities: threeIdentities() }));
  assert.deepEqual(api.named("idToken.setCustomClaim"), [["idToken.setCustomClaim", CLAIM, THREE_AS_CLAIMED]]);
  assert.equal(auth0.requests.length, 0);
  assert.deepEqual(lines, ["linked-accounts: skip: not due"]);
});

test("GitHub's numeric user_id stays a number, a string id stays a string", async () => {
  const { api } = await login(new FakeAuth0(), maya({ identities: threeIdentities() }));
  const [value] = claims(api);
  assert.equal(value[1].user_id, 8765432);
  assert.equal(typeof value[2].user_id, "string");
  assert.equal(JSON.stringify(value[1]).includes('"user_id":8765432'), true);
});

test("the claim keeps exactly the fields linked_accounts/identities.py reads", async () => {
  // READ_FIELDS and READ_PROFILE_FIELDS, read from the page's own source: a field added there
  // and not here (or the other way round) fails this test.
  const source = fs.readFileSync(path.join(__dirname, "../../linked_accounts/identities.py"), "utf8");
  const tuple = (name) => {
    const match = source.match(new RegExp(`^${name} = \\(([^)]*)\\)`, "m"));
    assert.ok(match, `${name} not found in identities.py`);
    return [...match[1].matchAll(/"([^"]+)"/g)].map((m) => m[1]);
  };
  const readFields = tuple("READ_FIELDS");
  const profileFields = tuple("READ_PROFILE_FIELDS");
  const everything = { extra: 1, access_token: "x", refresh_token: "y", expires_in: 3600 };
  for (const f of readFields) everything[f] = f === "isSocial" ? true : `${f}-value`;
  everything.profileData = { picture: "p", given_name: "g", email_verified: true };
  for (const f of profileFields) everything.profileData[f] = `${f}-value`;

  const { api } = await login(new FakeAuth0(), maya({ identities: [everything] }));
  const [[kept]] = claims(api);
  assert.deepEqual(Object.keys(kept).sort(), [...readFields, "profileData"].sort());
  assert.deepEqual(Object.keys(kept.profileData).sort(), [...profileFields].sort());
});

test("profileData is left out when it has none of the fields the page reads", async () => {
  const identities = [
    { provider: "auth0", user_id: "1", connection: "Username-Password-Authentication", isSocial: false, profileData: { picture: "p" } },
    { provider: "github", user_id: 2, connection: "github", isSocial: true, profileData: {} },
  ];
  const { api } = await login(new FakeAuth0(), maya({ identities }));
  assert.deepEqual(claims(api), [[
    { provider: "auth0", user_id: "1", connection: "Username-Password-Authentication", isSocial: false },
    { provider: "github", user_id: 2, connection: "github", isSocial: true },
  ]]);
});

test("the page's proof sign-in carries the claim too", async () => {
  const { api, lines } = await login(new FakeAuth0(), maya(), { query: { linked_accounts: "proof" } });
  assert.deepEqual(claims(api), [[
    { provider: "auth0", connection: "Username-Password-Authentication", user_id: MAYA.slice(6), isSocial: false },
  ]]);
  assert.deepEqual(lines, ["linked-accounts: skip: the page's proof sign-in"]);
});

test("a due login that redirects carries the claim, and the lookup is unchanged", async () => {
  const auth0 = new FakeAuth0([maya(), mayaGithub()]);
  const { api } = await login(auth0, mayaGithub(), { logins: 1 });
  assert.deepEqual(claims(api), [[{ provider: "github", connection: "github", user_id: "8765432", isSocial: true }]]);
  assert.equal(api.named("redirect.sendUserTo").length, 1);
  assert.deepEqual(auth0.requests.map((r) => r.endpoint), ["token", "users-by-email"]);
});

for (const [name, secrets] of [
  ["unset", { IDENTITIES_CLAIM: undefined }],
  ["empty", { IDENTITIES_CLAIM: "" }],
  ["blank", { IDENTITIES_CLAIM: "  " }],
]) {
  test(`IDENTITIES_CLAIM ${name}: no claim, no log line of it`, async () => {
    const { api, lines } = await login(new FakeAuth0(), maya({ identities: threeIdentities() }), { secrets });
    assert.deepEqual(api.named("idToken.setCustomClaim"), []);
    assert.deepEqual(lines, ["linked-accounts: skip: not due"]);
  });
}

// ---------------------------------------------------------------------------------------------
// For which clients

for (const [name, secrets, clientId, present] of [
  ["IDENTITIES_CLIENT_IDS lists the client", { IDENTITIES_CLIENT_IDS: "spa, app-client" }, "app-client", true],
  ["IDENTITIES_CLIENT_IDS does not list the client", { IDENTITIES_CLIENT_IDS: "spa,other" }, "app-client", false],
  [
    "IDENTITIES_CLIENT_IDS wins over CLIENT_IDS",
    { IDENTITIES_CLIENT_IDS: "app-client", CLIENT_IDS: "other" },
    "app-client",
    true,
  ],
  [
    "IDENTITIES_CLIENT_IDS names another client than CLIENT_IDS",
    { IDENTITIES_CLIENT_IDS: "other", CLIENT_IDS: "app-client" },
    "app-client",
    false,
  ],
  ["empty IDENTITIES_CLIENT_IDS: the client in CLIENT_IDS", { IDENTITIES_CLIENT_IDS: "", CLIENT_IDS: "app-client" }, "app-client", true],
  ["empty IDENTITIES_CLIENT_IDS: a client not in CLIENT_IDS", { IDENTITIES_CLIENT_IDS: " ", CLIENT_IDS: "other" }, "app-client", false],
  ["both empty: every client", { IDENTITIES_CLIENT_IDS: "", CLIENT_IDS: "" }, "any-client-at-all", true],
]) {
  test(`clients: ${name}: ${present ? "claim" : "no claim"}`, async () => {
    const { api } = await login(new FakeAuth0(), maya(), { secrets, clientId });
    assert.equal(claims(api).length, present ? 1 : 0);
  });
}

// ---------------------------------------------------------------------------------------------
// Too big

/** One identity whose claim JSON is exactly `bytes` long (a multi-byte name counts in bytes). */
function identitiesOfSize(bytes) {
  const base = { provider: "auth0", user_id: "1", connection: "c", isSocial: false, profileData: { name: "" } };
  const empty = Buffer.byteLength(JSON.stringify([base]));
  const room = bytes - empty;
  const name = "é".repeat(Math.floor(room / 2)) + "a".repeat(room % 2); // é is 2 bytes of UTF-8
  const identity = structuredClone(base);
  identity.profileData.name = name;
  assert.equal(Buffer.byteLength(JSON.stringify([identity])), bytes);
  return [identity];
}

test("2048 bytes of JSON is carried", async () => {
  const { api, lines } = await login(new FakeAuth0(), maya({ identities: identitiesOfSize(2048) }));
  assert.equal(claims(api).length, 1);
  assert.deepEqual(lines, ["linked-accounts: skip: not due"]);
});

test("over 2048 bytes of JSON: no claim, one log line saying so, and the login goes on", async () => {
  const { api, lines } = await login(new FakeAuth0(), maya({ identities: identitiesOfSize(2049) }));
  assert.deepEqual(api.named("idToken.setCustomClaim"), []);
  assert.deepEqual(lines, [
    "linked-accounts: identities claim left out: 2049 bytes of JSON, over 2048",
    "linked-accounts: skip: not due",
  ]);
});

test("the size is the trimmed list's: a big profile the page does not read is no reason to leave it out", async () => {
  const identities = threeIdentities();
  identities[1].profileData.bio = "x".repeat(5000);
  const { api } = await login(new FakeAuth0(), maya({ identities }));
  assert.deepEqual(claims(api), [THREE_AS_CLAIMED]);
});

test("identities that are not Auth0's shape: no claim, and the login goes on", async () => {
  for (const identities of [undefined, [], ["auth0|1"], [null]]) {
    const api = fakeApi();
    const event = makeEvent(maya(), { logins: 2, secrets: WITH_CLAIM });
    event.user.identities = identities;
    const lines = await withAuth0(new FakeAuth0(), () => action.onExecutePostLogin(event, api));
    assert.deepEqual(api.named("idToken.setCustomClaim"), [], JSON.stringify(identities));
    assert.deepEqual(lines, [
      "linked-accounts: identities claim left out: not a list of identities",
      "linked-accounts: skip: not due",
    ]);
  }
});

// ---------------------------------------------------------------------------------------------
// After the page's answer

const LINK_OLDER_PRIMARY = {
  action: "link",
  primary_identity: { user_id: MAYA, provider: "auth0", connection: "Username-Password-Authentication" },
  secondary_identity: { user_id: MAYA_GITHUB, provider: "github", connection: "github" },
};

const MAYA_AS_CLAIMED = { provider: "auth0", connection: "Username-Password-Authentication", user_id: MAYA.slice(6), isSocial: false };
const GITHUB_AS_CLAIMED = { provider: "github", connection: "github", user_id: "8765432", isSocial: true };

test("after a link that switches to the older account, the claim is its new list, set last", async () => {
  const auth0 = new FakeAuth0([maya(), mayaGithub()]);
  const { api } = await resume(auth0, mayaGithub(), LINK_OLDER_PRIMARY);
  assert.deepEqual(api.named("authentication.setPrimaryUser"), [["authentication.setPrimaryUser", MAYA]]);
  // First the list of the user the login began as (as at execute), then the linked one: the
  // later value is the one the ID token carries, and its primary is the token's new sub.
  assert.deepEqual(claims(api), [[GITHUB_AS_CLAIMED], [MAYA_AS_CLAIMED, GITHUB_AS_CLAIMED]]);
  const sets = api.named("idToken.setCustomClaim").map((c) => c[1]);
  assert.equal(sets.lastIndexOf(CLAIM), sets.length - 2); // then the merged claim, as before
  assert.equal(sets[sets.length - 1], MERGED);
});

test("the list after a link is Auth0's answer to the link, not a list of our own making", async () => {
  const auth0 = new FakeAuth0([maya(), mayaGithub()]);
  const real = auth0.answer.bind(auth0);
  auth0.answer = async (req) => {
    const res = await real(req);
    if (req.endpoint !== "link") return res;
    const body = await res.json(); // Auth0 gives the linked identity its profile
    body[1].profileData = { email: "maya@example.com", name: "Maya Patel", picture: "p" };
    return new Response(JSON.stringify(body), { status: 201, headers: { "content-type": "application/json" } });
  };
  const { api } = await resume(auth0, mayaGithub(), LINK_OLDER_PRIMARY);
  assert.deepEqual(claims(api).at(-1), [
    MAYA_AS_CLAIMED,
    Object.assign({}, GITHUB_AS_CLAIMED, { profileData: { email: "maya@example.com", name: "Maya Patel" } }),
  ]);
});

test("after a link into the signed-in account (no switch), the claim is its new list", async () => {
  const auth0 = new FakeAuth0([maya(), mayaGithub()]);
  const { api } = await resume(auth0, maya(), LINK_OLDER_PRIMARY);
  assert.deepEqual(api.named("authentication.setPrimaryUser"), []);
  assert.deepEqual(claims(api), [[MAYA_AS_CLAIMED], [MAYA_AS_CLAIMED, GITHUB_AS_CLAIMED]]);
});

test("a link whose answer was lost but happened: the claim is the list the re-read found", async () => {
  const auth0 = new FakeAuth0([maya(), mayaGithub()]);
  auth0.faults = {
    link: (req, fake) => {
      fake.answer(req);
      return "network";
    },
  };
  const { api } = await resume(auth0, mayaGithub(), LINK_OLDER_PRIMARY);
  assert.deepEqual(claims(api).at(-1), [MAYA_AS_CLAIMED, GITHUB_AS_CLAIMED]);
});

test("a link refused: the claim stays the signed-in user's list", async () => {
  const auth0 = new FakeAuth0([maya(), mayaGithub()]);
  auth0.faults = { link: 400 };
  const { api } = await resume(auth0, mayaGithub(), LINK_OLDER_PRIMARY);
  assert.deepEqual(claims(api), [[GITHUB_AS_CLAIMED]]);
});

for (const action_ of ["not_now", "not_mine", "skip"]) {
  test(`answer ${action_}: the claim is the signed-in user's list`, async () => {
    const auth0 = new FakeAuth0([maya(), mayaGithub()]);
    const { api } = await resume(auth0, mayaGithub(), { action: action_, candidates: [MAYA] });
    assert.deepEqual(claims(api), [[GITHUB_AS_CLAIMED]]);
    assert.equal(auth0.requests.length, 0);
  });
}

test("after a link whose list is too big: null, so the earlier list does not stand for the primary", async () => {
  const many = identitiesOfSize(2000); // the primary's list: under the limit before the link
  many[0].user_id = MAYA.slice(6);
  assert.ok(Buffer.byteLength(JSON.stringify(many)) <= 2048);
  const auth0 = new FakeAuth0([maya({ identities: many }), mayaGithub()]);
  const { api, lines } = await resume(auth0, mayaGithub(), LINK_OLDER_PRIMARY);
  assert.deepEqual(api.named("authentication.setPrimaryUser"), [["authentication.setPrimaryUser", MAYA]]);
  assert.deepEqual(claims(api), [[GITHUB_AS_CLAIMED], null]);
  assert.equal(lines.length, 2);
  assert.match(lines[0], /^linked-accounts: identities claim left out: \d+ bytes of JSON, over 2048$/);
  assert.equal(lines[1], `linked-accounts: linked: ${MAYA_GITHUB} into ${MAYA}`);
});

test("after a link, no claim for a client it is not asked for", async () => {
  const auth0 = new FakeAuth0([maya(), mayaGithub()]);
  const { api } = await resume(auth0, mayaGithub(), LINK_OLDER_PRIMARY, {
    secrets: { IDENTITIES_CLIENT_IDS: "other" },
  });
  assert.deepEqual(claims(api), []);
  assert.equal(api.named("authentication.setPrimaryUser").length, 1);
});
