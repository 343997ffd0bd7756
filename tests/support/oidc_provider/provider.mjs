// A real OpenID Provider for the tests (panva/oidc-provider, OpenID-certified), configured
// from the environment by tests/support/oidc.py. Its built-in development interactions are the
// login ("login" + any "password") and consent pages a citizen would see at E-Gov identity.
import Provider from 'oidc-provider';

const env = (name, fallback) => process.env[name] ?? fallback;
const port = Number(env('PORT', '9400'));
const issuer = env('ISSUER', `http://127.0.0.1:${port}`);
const accounts = JSON.parse(env('ACCOUNTS', '{}')); // login -> claims
const idTokenTtl = Number(env('ID_TOKEN_TTL', '600'));
// A provider whose clock runs behind issues ID tokens that have already expired when they
// arrive (the expired-token test): oidc-provider reads the time through Date.now.
const clockOffsetMs = Number(env('CLOCK_OFFSET_SECONDS', '0')) * 1000;
if (clockOffsetMs) {
  const realNow = Date.now;
  Date.now = () => realNow() + clockOffsetMs;
}

const provider = new Provider(issuer, {
  clients: [{
    client_id: env('CLIENT_ID', 'e-gomruk'),
    client_secret: env('CLIENT_SECRET', 'e-gomruk-secret'),
    redirect_uris: env('REDIRECT_URIS', '').split(',').filter(Boolean),
    post_logout_redirect_uris: env('POST_LOGOUT_REDIRECT_URIS', '').split(',').filter(Boolean),
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  pkce: { required: () => true }, // every client, not only public ones
  claims: { openid: ['sub'], profile: ['name', 'fin'] },
  conformIdTokenClaims: false, // the profile claims travel in the ID token as well
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  ttl: { IdToken: () => idTokenTtl },
  cookies: { keys: ['e-gomruk-test-oidc-provider-cookie-key'] },
  async findAccount(ctx, id) {
    const claims = accounts[id];
    if (!claims) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...claims }; } };
  },
});
provider.proxy = false;
provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${issuer}\n`);
});
