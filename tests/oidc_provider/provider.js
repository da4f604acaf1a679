// A real, standards-strict OpenID Provider (panva's oidc-provider) for the app's login tests.
//
//   node provider.js PORT REDIRECT_URI POST_LOGOUT_REDIRECT_URI
//
// (or OP_PORT, OP_REDIRECT_URI, OP_POST_LOGOUT_REDIRECT_URI in the environment). Issuer
// http://127.0.0.1:PORT; one confidential client `op-client` / `op-client-secret`; PKCE required;
// devInteractions (any login name, any password) for the login and consent pages.
import { generateKeyPairSync, randomBytes } from 'node:crypto';

import Provider from 'oidc-provider';

const port = Number(process.argv[2] || process.env.OP_PORT);
const redirectUri = process.argv[3] || process.env.OP_REDIRECT_URI;
const postLogoutUri = process.argv[4] || process.env.OP_POST_LOGOUT_REDIRECT_URI || redirectUri;
if (!port || !redirectUri) {
  console.error('usage: node provider.js PORT REDIRECT_URI [POST_LOGOUT_REDIRECT_URI]');
  process.exit(2);
}

// A fresh signing key per run: nothing secret is committed.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'op-test', use: 'sig', alg: 'RS256' };

const configuration = {
  clients: [
    {
      client_id: 'op-client',
      client_secret: 'op-client-secret',
      redirect_uris: [redirectUri],
      post_logout_redirect_uris: [postLogoutUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  // PKCE for every client, confidential ones included (the default requires it only for public ones).
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  // Put the profile and email claims in the ID token, as Auth0 does (the app reads them there).
  conformIdTokenClaims: false,
  claims: {
    openid: ['sub'],
    profile: ['name', 'nickname'],
    email: ['email', 'email_verified'],
  },
  // findAccount must answer with the very id it was asked for.
  async findAccount(_ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, name: `Test ${id}`, nickname: id, email: `${id}@op.test`, email_verified: true };
      },
    };
  },
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  ttl: { Session: 3600, Interaction: 600, Grant: 3600 },
};

const provider = new Provider(`http://127.0.0.1:${port}`, configuration);
const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on http://127.0.0.1:${port}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
