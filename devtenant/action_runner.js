'use strict';
// Runs one post-login Action for the development tenant, as Auth0's Actions runtime would.
//
// Input (stdin, one JSON object): {code, filename, phase: "execute" | "continue", event, secrets,
// cache: {key: {value, expires_at}}, now (tenant clock, seconds), issuer, continue_state,
// continue_params: {name: value}}.
// Output (the last line of stdout, one JSON object): {commands: [...], logs: [...], error?}.
// The tenant applies the commands; nothing here touches the tenant's state.
// Node's built-ins only: no npm packages.

const crypto = require('node:crypto');
const path = require('node:path');
const vm = require('node:vm');
const { createRequire } = require('node:module');

const CACHE_DEFAULT_TTL_MS = 24 * 60 * 60 * 1000; // Auth0's default (and longest) cache lifetime
const TOKEN_DEFAULT_SECONDS = 900; // encodeToken's default lifetime, as Auth0 documents it

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on('data', (chunk) => chunks.push(chunk));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

function base64url(data) {
  return Buffer.from(data).toString('base64url');
}

function hs256(secret, signingInput) {
  return crypto.createHmac('sha256', secret).update(signingInput).digest();
}

function requireSecret(secret, method) {
  if (typeof secret !== 'string' || secret.length === 0) {
    throw new TypeError(`${method}: "secret" must be a non-empty string`);
  }
}

function encodeToken(input, options) {
  const { secret, expiresInSeconds = TOKEN_DEFAULT_SECONDS, payload = {} } = options || {};
  requireSecret(secret, 'api.redirect.encodeToken');
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new TypeError('api.redirect.encodeToken: "payload" must be an object');
  }
  const iat = Math.floor(input.now);
  const claims = {
    ...payload,
    iss: input.issuer,
    sub: input.event.user.user_id,
    ...(input.event.request && input.event.request.ip ? { ip: input.event.request.ip } : {}),
    iat,
    exp: iat + Number(expiresInSeconds),
  };
  const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = base64url(JSON.stringify(claims));
  const signature = hs256(secret, `${header}.${body}`).toString('base64url');
  return `${header}.${body}.${signature}`;
}

function invalid(reason) {
  return new Error(`The session token is invalid: ${reason}`);
}

function decodeJson(segment) {
  try {
    const value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value;
  } catch (_) {
    // fall through: not JSON
  }
  throw invalid('Malformed token.');
}

function validateToken(input, options) {
  if (input.phase !== 'continue') {
    throw new Error('api.redirect.validateToken is only available in onContinuePostLogin');
  }
  const { secret, tokenParameterName = 'session_token' } = options || {};
  requireSecret(secret, 'api.redirect.validateToken');
  const token = (input.continue_params || {})[tokenParameterName];
  if (typeof token !== 'string' || token.length === 0) {
    throw invalid(`No "${tokenParameterName}" parameter was sent to /continue.`);
  }
  const parts = token.split('.');
  if (parts.length !== 3) throw invalid('Malformed token.');
  const header = decodeJson(parts[0]);
  if (header.alg !== 'HS256') throw invalid('The token must be signed with HS256.');
  const expected = hs256(secret, `${parts[0]}.${parts[1]}`);
  const given = Buffer.from(parts[2], 'base64url');
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) {
    throw invalid('Invalid signature.');
  }
  const claims = decodeJson(parts[1]);
  if (typeof claims.exp !== 'number' || input.now >= claims.exp) {
    throw invalid('The token has expired.');
  }
  if (claims.state !== input.continue_state) {
    throw invalid('State in the token does not match the /continue state.');
  }
  return claims;
}

function buildApi(input, commands) {
  const cache = { ...(input.cache || {}) };
  const nowMs = () => Math.floor(input.now * 1000);
  const api = {};
  const record = (command) => {
    commands.push(command);
    return api;
  };
  const nullable = (value) => (value === undefined ? null : value);

  api.access = { deny: (reason) => record({ type: 'deny', reason: String(reason) }) };
  api.authentication = {
    setPrimaryUser: (userId) => record({ type: 'set_primary_user', user_id: String(userId) }),
  };
  api.idToken = {
    setCustomClaim: (name, value) =>
      record({ type: 'id_token_claim', name: String(name), value: nullable(value) }),
  };
  api.accessToken = {
    setCustomClaim: (name, value) =>
      record({ type: 'access_token_claim', name: String(name), value: nullable(value) }),
  };
  api.user = {
    setAppMetadata: (key, value) =>
      record({ type: 'app_metadata', key: String(key), value: nullable(value) }),
    setUserMetadata: (key, value) =>
      record({ type: 'user_metadata', key: String(key), value: nullable(value) }),
  };
  api.redirect = {
    sendUserTo: (url, options) => {
      const query = {};
      for (const [name, value] of Object.entries((options && options.query) || {})) {
        if (value !== undefined && value !== null) query[name] = String(value);
      }
      return record({ type: 'redirect', url: String(url), query });
    },
    encodeToken: (options) => encodeToken(input, options),
    validateToken: (options) => validateToken(input, options),
  };
  api.cache = {
    get: (key) => {
      const entry = cache[key];
      if (!entry || entry.expires_at <= nowMs()) return undefined;
      return { value: entry.value, expires_at: entry.expires_at };
    },
    set: (key, value, options) => {
      if (typeof key !== 'string' || typeof value !== 'string') {
        return { type: 'error', code: 'invalid_argument' };
      }
      const { ttl, expires_at: expiresAt } = options || {};
      const limits = [nowMs() + CACHE_DEFAULT_TTL_MS];
      if (typeof ttl === 'number') limits.push(nowMs() + ttl);
      if (typeof expiresAt === 'number') limits.push(expiresAt);
      const entry = { value, expires_at: Math.min(...limits) };
      cache[key] = entry;
      commands.push({ type: 'cache_set', key, ...entry });
      return { type: 'success', record: { ...entry } };
    },
    delete: (key) => {
      delete cache[key];
      commands.push({ type: 'cache_delete', key: String(key) });
      return { type: 'success' };
    },
  };
  return api;
}

function captureConsole(logs) {
  const keep = (...args) =>
    logs.push(args.map((a) => (typeof a === 'string' ? a : safeInspect(a))).join(' '));
  for (const name of ['log', 'info', 'warn', 'error', 'debug']) console[name] = keep;
}

function safeInspect(value) {
  try {
    return require('node:util').inspect(value, { depth: 4 });
  } catch (_) {
    return String(value);
  }
}

function load(code, filename) {
  const module = { exports: {} };
  const compiled = vm.compileFunction(
    code,
    ['exports', 'require', 'module', '__filename', '__dirname'],
    { filename },
  );
  compiled(module.exports, createRequire(filename), module, filename, path.dirname(filename));
  return module.exports;
}

function errorMessage(error) {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

async function main() {
  const logs = [];
  const commands = [];
  const result = { commands, logs };
  captureConsole(logs);
  process.on('unhandledRejection', (reason) => {
    logs.push(`Unhandled rejection: ${errorMessage(reason)}`);
  });
  try {
    const input = JSON.parse(await readStdin());
    input.event.secrets = { ...(input.secrets || {}) };
    const exported = load(input.code, input.filename);
    const name = input.phase === 'continue' ? 'onContinuePostLogin' : 'onExecutePostLogin';
    if (typeof exported[name] !== 'function') {
      throw new Error(`The Action does not export ${name}`);
    }
    await exported[name](input.event, buildApi(input, commands));
  } catch (error) {
    result.error = { message: errorMessage(error) };
  }
  // Sockets and timers the Action left open must not keep the login waiting.
  process.stdout.write(`\n${JSON.stringify(result)}\n`, () => process.exit(0));
}

main();
