/**
 * Turns whatever a user pasted as "the private key" into a signing `CryptoKey` (through jose, on any runtime with
 * WebCrypto), or says exactly what is wrong with it. Runs once, when the AppAuth layer is built. Never puts key
 * text into an error.
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { importPKCS8 } from "jose"
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
 * A value that is not text at all (`undefined` from an unset variable, a number, an object) is named by its kind:
 * what it was, never what it holds.
 */
const notText = (input: unknown): Either.Either<never, PrivateKeyError> =>
  input === undefined || input === null
    ? fail(
      "Empty",
      `it is ${input === null ? "null" : "undefined"} (was an environment variable unset?). ` + describe.Empty
    )
    : fail(
      "Unparseable",
      `it is ${Array.isArray(input) ? "an array" : typeof input === "object" ? "an object" : `a ${typeof input}`}, ` +
        "not text. Pass the contents of the app's .pem file as a string or a Redacted<string>."
    )

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
 * A key checked and converted to PKCS#8 DER, ready to import. Only `der` holds key material.
 *
 * @internal
 */
export interface ParsedKey {
  readonly der: Uint8Array
  readonly modulusBits: number
}

/**
 * Parses a private key as GitHub issues it (PKCS#1 PEM), or as commonly converted (PKCS#8 PEM), also when it went
 * through an environment variable, or was base64-encoded whole, or lost its BEGIN/END lines (bare base64 DER).
 * Any input is accepted: what is not a string fails as a `PrivateKeyError`, never as a thrown TypeError.
 *
 * @internal
 */
export const parsePrivateKey = (input: unknown): Either.Either<ParsedKey, PrivateKeyError> => {
  if (typeof input !== "string") return notText(input)
  let text = unwrap(input)
  if (text === "") return fail("Empty", describe.Empty)
  if (!text.includes("-----BEGIN")) {
    if (/^ssh-(rsa|ed25519|dss) |^ecdsa-sha2-/.test(text)) return fail("PublicKey", describe.PublicKey)
    if (!base64Text.test(text)) return fail("Unparseable", describe.Unparseable)
    const bytes = decodeBase64(text)
    if (bytes === undefined) return fail("Unparseable", describe.Unparseable)
    const decoded = latin1(bytes)
    if (decoded.includes("-----BEGIN")) {
      text = unwrap(decoded)
    } else {
      // A PEM body without its BEGIN/END lines: DER, PKCS#1 or PKCS#8.
      return bytes[0] === 0x30 ? fromDer(bytes) : fail("Unparseable", describe.Unparseable)
    }
  }
  return fromPem(text)
}

const fromPem = (text: string): Either.Either<ParsedKey, PrivateKeyError> => {
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
  // Dropping every space and backslash makes keys whose newlines became spaces (or vanished) readable again.
  const body = rawBody.replace(/\\|\s/g, "")
  if (body === "" || !/^[A-Za-z0-9+/]+={0,2}$/.test(body)) return fail("Unparseable", describe.Unparseable)
  const der = decodeBase64(body)
  return der === undefined ? fail("Unparseable", describe.Unparseable) : fromDer(der)
}

// --- DER -----------------------------------------------------------------------------------------------------------
// Just enough of ASN.1 DER to tell PKCS#1 from PKCS#8 (and from what is neither), to read the key's algorithm and
// modulus size, and to wrap PKCS#1 in PKCS#8 for WebCrypto, which imports only the latter.

interface Element {
  readonly tag: number
  /** Offset of the tag byte. */
  readonly start: number
  /** Offset of the contents. */
  readonly contents: number
  /** Offset after the contents. */
  readonly end: number
}

const SEQUENCE = 0x30
const INTEGER = 0x02
const OCTET_STRING = 0x04
const OID = 0x06

/** Reads the element at `at`, or undefined when its header or length does not fit inside `limit`. */
const readElement = (bytes: Uint8Array, at: number, limit: number): Element | undefined => {
  if (at + 2 > limit) return undefined
  const tag = bytes[at]!
  // High tag numbers (0x1f) do not occur in keys.
  if ((tag & 0x1f) === 0x1f) return undefined
  let length = bytes[at + 1]!
  let contents = at + 2
  if (length & 0x80) {
    const count = length & 0x7f
    if (count === 0 || count > 4 || contents + count > limit) return undefined
    length = 0
    for (let i = 0; i < count; i++) length = length * 256 + bytes[contents + i]!
    contents += count
  }
  const end = contents + length
  return end <= limit ? { tag, start: at, contents, end } : undefined
}

/** The elements inside a constructed element, or undefined when they do not exactly fill it. */
const children = (bytes: Uint8Array, parent: Element): Array<Element> | undefined => {
  const out: Array<Element> = []
  let at = parent.contents
  while (at < parent.end) {
    const element = readElement(bytes, at, parent.end)
    if (element === undefined) return undefined
    out.push(element)
    at = element.end
  }
  return out
}

const hex = (bytes: Uint8Array, element: Element): string => {
  let out = ""
  for (let i = element.contents; i < element.end; i++) out += bytes[i]!.toString(16).padStart(2, "0")
  return out
}

/** Key algorithms by OID (hex of the encoded OID), named as OpenSSL and Node name them. */
const algorithms: Record<string, string> = {
  "2a864886f70d010101": "rsa",
  "2a864886f70d01010a": "rsa-pss",
  "2a8648ce3d0201": "ec",
  "2a8648ce380401": "dsa",
  "2a864886f70d010301": "dh",
  "2b656e": "x25519",
  "2b656f": "x448",
  "2b6570": "ed25519",
  "2b6571": "ed448"
}

const notRsaName = (type: string | undefined): string =>
  type === "ec"
    ? "an EC (elliptic curve)"
    : type === "rsa-pss"
    ? "an RSA-PSS (restricted to PSS signatures)"
    : type === undefined
    ? "an unknown type of"
    : `${/^[aeiou]/.test(type) ? "an" : "a"} ${type}`

/** The bit length of an RSAPrivateKey's modulus, or undefined when it is not an RSAPrivateKey. */
const rsaModulusBits = (bytes: Uint8Array, element: Element): number | undefined => {
  if (element.tag !== SEQUENCE) return undefined
  const fields = children(bytes, element)
  // version, n, e, d, p, q, dp, dq, qinv (and otherPrimeInfos in multi-prime keys)
  if (fields === undefined || fields.length < 9 || fields.slice(0, 9).some((f) => f.tag !== INTEGER)) return undefined
  const modulus = fields[1]!
  let at = modulus.contents
  while (at < modulus.end && bytes[at] === 0) at++
  if (at === modulus.end) return undefined
  return (modulus.end - at - 1) * 8 + (32 - Math.clz32(bytes[at]!))
}

const encodeLength = (length: number): Array<number> => {
  if (length < 0x80) return [length]
  const out: Array<number> = []
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) out.unshift(rest % 256)
  return [0x80 | out.length, ...out]
}

/** PrivateKeyInfo { version 0, AlgorithmIdentifier { rsaEncryption, NULL }, OCTET STRING { RSAPrivateKey } }. */
const rsaPkcs8Prefix = Array.from("020100300d06092a864886f70d0101010500".match(/../g)!, (byte) => parseInt(byte, 16))

const wrapPkcs1 = (pkcs1: Uint8Array): Uint8Array => {
  const octets = [OCTET_STRING, ...encodeLength(pkcs1.length)]
  const contentLength = rsaPkcs8Prefix.length + octets.length + pkcs1.length
  const head = [SEQUENCE, ...encodeLength(contentLength), ...rsaPkcs8Prefix, ...octets]
  const out = new Uint8Array(head.length + pkcs1.length)
  out.set(head)
  out.set(pkcs1, head.length)
  return out
}

const checked = (der: Uint8Array, bits: number): Either.Either<ParsedKey, PrivateKeyError> =>
  bits < 2048
    ? fail("TooShort", `it is a ${bits}-bit RSA key; ${describe.TooShort}`)
    : Either.right({ der, modulusBits: bits })

/** Tells PKCS#1 (GitHub's), PKCS#8 and encrypted PKCS#8 apart by their structure, whatever the PEM label said. */
const fromDer = (der: Uint8Array): Either.Either<ParsedKey, PrivateKeyError> => {
  const top = readElement(der, 0, der.length)
  if (top === undefined || top.tag !== SEQUENCE || top.end !== der.length) {
    return fail("Unparseable", describe.Unparseable)
  }
  const fields = children(der, top)
  if (fields === undefined || fields.length < 2) return fail("Unparseable", describe.Unparseable)
  const [first, second] = fields as [Element, Element]
  // EncryptedPrivateKeyInfo { AlgorithmIdentifier, OCTET STRING }
  if (first.tag === SEQUENCE && second.tag === OCTET_STRING) return fail("Encrypted", describe.Encrypted)
  if (first.tag !== INTEGER) return fail("Unparseable", describe.Unparseable)
  // RSAPrivateKey (PKCS#1): nine INTEGERs.
  if (second.tag === INTEGER) {
    const bits = rsaModulusBits(der, top)
    return bits === undefined ? fail("Unparseable", describe.Unparseable) : checked(wrapPkcs1(der), bits)
  }
  // ECPrivateKey (SEC1): version 1, OCTET STRING, ...
  if (second.tag === OCTET_STRING) return fail("NotRsa", notRsa(notRsaName("ec")))
  // PrivateKeyInfo (PKCS#8): version, AlgorithmIdentifier { OID, parameters }, OCTET STRING.
  const inner = fields[2]
  if (second.tag !== SEQUENCE || inner === undefined || inner.tag !== OCTET_STRING) {
    return fail("Unparseable", describe.Unparseable)
  }
  const algorithm = children(der, second)?.[0]
  if (algorithm === undefined || algorithm.tag !== OID) return fail("Unparseable", describe.Unparseable)
  const type = algorithms[hex(der, algorithm)]
  if (type !== "rsa") return fail("NotRsa", notRsa(notRsaName(type)))
  const key = readElement(der, inner.contents, inner.end)
  const bits = key === undefined || key.end !== inner.end ? undefined : rsaModulusBits(der, key)
  return bits === undefined ? fail("Unparseable", describe.Unparseable) : checked(der, bits)
}

// --- base64 --------------------------------------------------------------------------------------------------------
// Our own codec: `Buffer` is Node's, and `atob` throws on what a lenient reader should accept (url-safe letters,
// missing padding).

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
const sextets = (() => {
  const table = new Int16Array(128).fill(-1)
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i
  table["-".charCodeAt(0)] = 62
  table["_".charCodeAt(0)] = 63
  return table
})()

/** Decodes standard or url-safe base64, skipping whitespace; stops at `=`; undefined on any other character. */
const decodeBase64 = (text: string): Uint8Array | undefined => {
  const out = new Uint8Array(Math.ceil((text.length * 3) / 4))
  let length = 0
  let buffer = 0
  let bits = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code === 0x3d) break
    if (code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09) continue
    const value = code < 128 ? sextets[code]! : -1
    if (value < 0) return undefined
    buffer = ((buffer << 6) | value) & 0xffffff
    bits += 6
    if (bits >= 8) {
      bits -= 8
      out[length++] = (buffer >> bits) & 0xff
    }
  }
  return out.subarray(0, length)
}

const encodeBase64 = (bytes: Uint8Array): string => {
  let out = ""
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i]!
    const b = bytes[i + 1]
    const c = bytes[i + 2]
    out += alphabet[a >> 2]! + alphabet[((a & 3) << 4) | ((b ?? 0) >> 4)]! +
      (b === undefined ? "=" : alphabet[((b & 15) << 2) | ((c ?? 0) >> 6)]!) +
      (c === undefined ? "=" : alphabet[c & 63]!)
  }
  return out
}

const latin1 = (bytes: Uint8Array): string => {
  let out = ""
  for (let i = 0; i < bytes.length; i += 8192) {
    out += String.fromCharCode(...bytes.subarray(i, i + 8192))
  }
  return out
}

/**
 * Imports a parsed key for RS256 signing, once, at layer build. The key is not extractable: the `CryptoKey` can sign
 * and nothing else.
 *
 * @internal
 */
export const importPrivateKey = (key: ParsedKey): Effect.Effect<CryptoKey, PrivateKeyError> =>
  Effect.tryPromise({
    try: () => importPKCS8(`-----BEGIN PRIVATE KEY-----\n${encodeBase64(key.der)}\n-----END PRIVATE KEY-----`, "RS256"),
    // WebCrypto's messages name the step that failed, never the key; still, none is passed on.
    catch: () => new PrivateKeyError({ problem: "Unparseable", description: describe.Unparseable })
  })
