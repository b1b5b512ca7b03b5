// DIVE's identity provider driven by independent OIDC libraries: openid-client discovers the issuer,
// logs in with the password grant and refreshes; jose verifies the tokens against the published JWKS.
// Usage: node oidc_interop.mjs   (ISSUER, DIVE_USERNAME, DIVE_PASSWORD; NODE_EXTRA_CA_CERTS for our CA)
// Prints one JSON line with the checks made; exits 1 at the first failed check.
import { Issuer, errors } from 'openid-client';
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader } from 'jose';

const issuerUrl = process.env.ISSUER;
const username = process.env.DIVE_USERNAME;
const password = process.env.DIVE_PASSWORD;
const checks = [];

function check(name, ok, detail = '') {
  checks.push(name);
  if (!ok) {
    console.error(`FAILED: ${name} ${detail}`);
    process.exit(1);
  }
}

const issuer = await Issuer.discover(issuerUrl);
check('discovery issuer matches', issuer.metadata.issuer === issuerUrl, issuer.metadata.issuer);
check('discovery names a JWKS', typeof issuer.metadata.jwks_uri === 'string');

const client = new issuer.Client({ client_id: 'dive-cli', token_endpoint_auth_method: 'none' });
const jwks = createRemoteJWKSet(new URL(issuer.metadata.jwks_uri));
const verifyAccess = async (token) =>
  (await jwtVerify(token, jwks, { issuer: issuerUrl, audience: 'dive-api', algorithms: ['RS256'] })).payload;

const first = await client.grant({ grant_type: 'password', username, password, scope: 'openid profile email' });
check('password grant returns a Bearer token', first.token_type?.toLowerCase() === 'bearer');
check('password grant returns a refresh token', typeof first.refresh_token === 'string');
const claims = await verifyAccess(first.access_token);
check('access token verified by jose', claims.preferred_username === username, JSON.stringify(claims));
check('access token carries DIVE attributes', typeof claims.clearance === 'string' && claims.uniqueID === username);
check('access token audience includes dive-kas', Array.isArray(claims.aud) && claims.aud.includes('dive-kas'));
check('password-only login has acr 0', claims.acr === '0' && JSON.stringify(claims.amr) === '["pwd"]');
check('access token has a kid', typeof decodeProtectedHeader(first.access_token).kid === 'string');
const idClaims = (await jwtVerify(first.id_token, jwks, { issuer: issuerUrl, audience: 'dive-cli' })).payload;
check('id token verified by jose', idClaims.sub === claims.sub && idClaims.typ === 'ID');

const info = await client.userinfo(first.access_token);
check('userinfo answers for the token', info.sub === claims.sub && info.uniqueID === username);

// openid-client validates the refreshed ID token itself (signature, iss, aud, azp, at_hash, same sub).
const second = await client.refresh(first.refresh_token);
check('refresh rotates the refresh token', second.refresh_token && second.refresh_token !== first.refresh_token);
const claims2 = await verifyAccess(second.access_token);
check('refreshed access token verified by jose', claims2.sub === claims.sub && claims2.jti !== claims.jti);

let reuse = null;
try {
  await client.refresh(first.refresh_token);
} catch (e) {
  reuse = e;
}
check('a rotated refresh token is refused', reuse instanceof errors.OPError && reuse.error === 'invalid_grant',
      String(reuse));
let after = null;
try {
  await client.refresh(second.refresh_token);
} catch (e) {
  after = e;
}
check('reuse revoked the whole family', after instanceof errors.OPError && after.error === 'invalid_grant', String(after));

console.log(JSON.stringify({ ok: true, checks }));
