import { type JWTPayload, SignJWT } from 'jose';

/** An HS256 secret long enough for the server (32+ bytes). */
export const SECRET = 'test-secret-0123456789-abcdefghijklmnop';

/** Signs `claims` with HS256 (or the given key and algorithm); expires in an hour unless `exp` is set. */
export async function sign(
  claims: JWTPayload & Record<string, unknown>,
  key: Parameters<SignJWT['sign']>[0] = new TextEncoder().encode(SECRET),
  alg = 'HS256',
): Promise<string> {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg }).setIssuedAt();
  if (claims.exp === undefined) jwt.setExpirationTime('1h');
  return jwt.sign(key);
}
