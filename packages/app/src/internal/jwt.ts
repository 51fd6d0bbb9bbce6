/**
 * The RS256 hot path: a precomputed header, the claims as a string, one `crypto.sign`. Nothing else runs per JWT,
 * so signing costs what node:crypto costs.
 */
import { type KeyObject, sign } from "node:crypto"

const encodedHeader = Buffer.from(JSON.stringify({ alg: "RS256", typ: "JWT" })).toString("base64url")

/**
 * Returns a signer for one issuer: `iss` is encoded once, `iat` and `exp` per call.
 *
 * @internal
 */
export const rs256 = (key: KeyObject, issuer: string) => {
  const issuerJson = JSON.stringify(issuer)
  return (iat: number, exp: number): string => {
    const claims = `{"iat":${iat},"exp":${exp},"iss":${issuerJson}}`
    const data = `${encodedHeader}.${Buffer.from(claims).toString("base64url")}`
    return `${data}.${sign("sha256", Buffer.from(data), key).toString("base64url")}`
  }
}

/**
 * What a compact JWS looks like: three base64url parts. An external signer's answer is checked against it so that
 * a signer returning, say, an error page fails here rather than as a 401 later.
 *
 * @internal
 */
export const isCompactJwt = (value: string): boolean => /^[\w-]+\.[\w-]+\.[\w-]+$/.test(value)
