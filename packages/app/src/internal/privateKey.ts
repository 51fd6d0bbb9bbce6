/**
 * Turns whatever a user pasted as "the private key" into a node:crypto `KeyObject`, or says exactly what is wrong
 * with it. Runs once, when the AppAuth layer is built. Never puts key text into an error.
 */
import * as Either from "effect/Either"
import { createPrivateKey, type KeyObject } from "node:crypto"
import { PrivateKeyError, type PrivateKeyProblem } from "../GithubError.js"

const fail = (problem: PrivateKeyProblem, description: string): Either.Either<never, PrivateKeyError> =>
  Either.left(new PrivateKeyError({ problem, description }))

const downloadHint = "Use the .pem file from the app's settings page (Private keys > Generate a private key)."

/** @internal */
export const describe = {
  Empty: "it is empty. Set GITHUB_APP_PRIVATE_KEY to the contents of the app's .pem file, or " +
    "GITHUB_APP_PRIVATE_KEY_FILE to its path.",
  Truncated: "it has a BEGIN line but no matching END line, so it was cut short. This usually happens when a " +
    "multi-line value in an environment variable or .env file kept only its first line: quote the whole value, " +
    "write the newlines as \\n, or point GITHUB_APP_PRIVATE_KEY_FILE at the .pem file instead.",
  OpenSsh: "it is an OpenSSH key (BEGIN OPENSSH PRIVATE KEY), e.g. an SSH or deploy key, not a GitHub App key. " +
    downloadHint + " If this really is the app's key, convert it with `ssh-keygen -p -m PEM -f <file>`.",
  PublicKey: "it is a public key; app JWTs are signed with the private key. " + downloadHint,
  Certificate: "it is a certificate, not a private key. " + downloadHint,
  Encrypted: "it is encrypted with a passphrase, and GitHub App keys are used unencrypted. Decrypt it with " +
    "`openssl pkey -in <file> -out <decrypted.pem>` and keep the result as secret as the original.",
  TooShort: "GitHub requires RSA keys of at least 2048 bits. " + downloadHint,
  Unparseable: "it is not a readable PEM private key (expected -----BEGIN RSA PRIVATE KEY----- ... " +
    "-----END RSA PRIVATE KEY-----, or PKCS#8 -----BEGIN PRIVATE KEY-----); it may be corrupted or edited. " +
    downloadHint
} as const

const notRsa = (what: string): string =>
  `it is ${what} key, and GitHub App JWTs are signed with RS256, which needs an RSA key. ${downloadHint}`

/**
 * Undoes what environment variables, .env files and secret stores do to a PEM: surrounding whitespace and quotes,
 * newlines written as `\n` (or `\r\n`), CRLF line ends.
 */
const unwrap = (input: string): string => {
  let text = input.trim()
  for (;;) {
    const first = text[0]
    if (text.length >= 2 && (first === "\"" || first === "'" || first === "`") && text[text.length - 1] === first) {
      text = text.slice(1, -1).trim()
    } else break
  }
  return text.replace(/\\r\\n|\\n|\\r/g, "\n").replace(/\r\n?/g, "\n").trim()
}

const base64Text = /^[A-Za-z0-9+/=_\-\s]+$/

const beginLine = /-----BEGIN ([A-Z0-9 ]+)-----/g

/**
 * Parses a private key as GitHub issues it (PKCS#1 PEM), or as commonly converted (PKCS#8 PEM), also when it went
 * through an environment variable, or was base64-encoded whole, or lost its BEGIN/END lines (bare base64 DER).
 *
 * @internal
 */
export const parsePrivateKey = (input: string): Either.Either<KeyObject, PrivateKeyError> => {
  let text = unwrap(input)
  if (text === "") return fail("Empty", describe.Empty)
  if (!text.includes("-----BEGIN")) {
    if (/^ssh-(rsa|ed25519|dss) |^ecdsa-sha2-/.test(text)) return fail("PublicKey", describe.PublicKey)
    if (!base64Text.test(text)) return fail("Unparseable", describe.Unparseable)
    const bytes = Buffer.from(text.replace(/\s/g, ""), "base64")
    const decoded = bytes.toString("latin1")
    if (decoded.includes("-----BEGIN")) {
      text = unwrap(decoded)
    } else {
      // A PEM body without its BEGIN/END lines: DER, PKCS#1 or PKCS#8.
      return bytes[0] === 0x30 ? fromDer(bytes) : fail("Unparseable", describe.Unparseable)
    }
  }
  return fromPem(text)
}

const fromPem = (text: string): Either.Either<KeyObject, PrivateKeyError> => {
  const labels = Array.from(text.matchAll(beginLine), (match) => ({ label: match[1]!, index: match.index }))
  // A file may hold a certificate chain next to the key: the private key block wins.
  const block = labels.find(({ label }) => label.endsWith("PRIVATE KEY")) ?? labels[0]
  if (block === undefined) return fail("Unparseable", describe.Unparseable)
  const { index, label } = block
  if (label === "OPENSSH PRIVATE KEY") return fail("OpenSsh", describe.OpenSsh)
  if (label === "ENCRYPTED PRIVATE KEY") return fail("Encrypted", describe.Encrypted)
  if (label.includes("PUBLIC KEY")) return fail("PublicKey", describe.PublicKey)
  if (label.includes("CERTIFICATE")) return fail("Certificate", describe.Certificate)
  if (label === "EC PRIVATE KEY") return fail("NotRsa", notRsa("an EC (elliptic curve)"))
  if (label === "DSA PRIVATE KEY") return fail("NotRsa", notRsa("a DSA"))
  if (label !== "RSA PRIVATE KEY" && label !== "PRIVATE KEY") return fail("Unparseable", describe.Unparseable)
  const start = index + label.length + 16
  const end = text.indexOf(`-----END ${label}-----`, start)
  if (end < 0) return fail("Truncated", describe.Truncated)
  const rawBody = text.slice(start, end)
  if (/Proc-Type:\s*4,ENCRYPTED/.test(rawBody)) return fail("Encrypted", describe.Encrypted)
  // Re-wrapping the body makes keys whose newlines became spaces (or vanished) readable again.
  const body = rawBody.replace(/\\|\s/g, "")
  if (body === "" || !/^[A-Za-z0-9+/]+={0,2}$/.test(body)) return fail("Unparseable", describe.Unparseable)
  const pem = `-----BEGIN ${label}-----\n${body.replace(/.{1,64}/g, "$&\n")}-----END ${label}-----\n`
  return load(() => createPrivateKey({ key: pem, format: "pem" }))
}

const fromDer = (der: Buffer): Either.Either<KeyObject, PrivateKeyError> => {
  const pkcs1 = load(() => createPrivateKey({ key: der, format: "der", type: "pkcs1" }))
  return Either.isRight(pkcs1) ? pkcs1 : load(() => createPrivateKey({ key: der, format: "der", type: "pkcs8" }))
}

const load = (create: () => KeyObject): Either.Either<KeyObject, PrivateKeyError> => {
  let key: KeyObject
  try {
    key = create()
  } catch (error) {
    // Node's messages name the decoder that failed, never the key; still, only the code is looked at.
    const code = (error as { code?: unknown }).code
    return code === "ERR_MISSING_PASSPHRASE"
      ? fail("Encrypted", describe.Encrypted)
      : fail("Unparseable", describe.Unparseable)
  }
  const type = key.asymmetricKeyType
  if (type !== "rsa") {
    return fail(
      "NotRsa",
      notRsa(
        type === "ec"
          ? "an EC (elliptic curve)"
          : type === "rsa-pss"
          ? "an RSA-PSS (restricted to PSS signatures)"
          : type === undefined
          ? "an unknown type of"
          : `${/^[aeiou]/.test(type) ? "an" : "a"} ${type}`
      )
    )
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0
  if (bits < 2048) return fail("TooShort", `it is a ${bits}-bit RSA key; ${describe.TooShort}`)
  return Either.right(key)
}
