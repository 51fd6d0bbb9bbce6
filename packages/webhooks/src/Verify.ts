/**
 * Webhook signatures: `X-Hub-Signature-256` (`sha256=` + HMAC-SHA256 of the raw body bytes), checked with Web
 * Crypto in constant time against one or more secrets (rotation, newest first).
 *
 * @example
 * ```ts
 * import { Verify } from "@effect-github/webhooks"
 * import * as Effect from "effect/Effect"
 * import * as Redacted from "effect/Redacted"
 *
 * const program = Effect.gen(function*() {
 *   const verifier = yield* Verify.make({ secrets: [Redacted.make("It's a Secret to Everybody")] })
 *   const body = new TextEncoder().encode("Hello, World!")
 *   yield* verifier.verify(body, {
 *     signature256: "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
 *   })
 * })
 * ```
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import {
  WebhookPayloadTooLarge,
  WebhookSignatureMalformed,
  WebhookSignatureMismatch,
  WebhookSignatureMissing,
  WebhookUnsupportedAlgorithm
} from "./WebhookError.js"
import type { VerifyError } from "./WebhookError.js"

/**
 * GitHub's cap on a webhook payload: 25 MB.
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_PAYLOAD_BYTES = 25 * 1024 * 1024

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** One secret, or several during a rotation, newest first (the newest is tried first). */
  readonly secrets: Redacted.Redacted<string> | ReadonlyArray<Redacted.Redacted<string>>
  /** Accept a delivery signed only with SHA-1 (`X-Hub-Signature`); default false. */
  readonly allowSha1?: boolean | undefined
  /** The largest body accepted, in bytes; default 25 MB (GitHub's cap). */
  readonly maxBodyBytes?: number | undefined
}

/**
 * The signature headers of a delivery.
 *
 * @since 0.1.0
 * @category models
 */
export interface Signatures {
  /** `X-Hub-Signature-256`. */
  readonly signature256?: string | undefined
  /** `X-Hub-Signature` (SHA-1), considered only when `allowSha1` is set. */
  readonly signature1?: string | undefined
  /** Named in errors. */
  readonly deliveryId?: string | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Verifier {
  readonly maxBodyBytes: number
  /** Succeeds when the body is signed by one of the secrets; the index of that secret is returned. */
  readonly verify: (body: Uint8Array, signatures: Signatures) => Effect.Effect<number, VerifyError>
}

type Algorithm = "sha256" | "sha1"

const HASH: Record<Algorithm, { readonly name: string; readonly hexLength: number }> = {
  sha256: { name: "SHA-256", hexLength: 64 },
  sha1: { name: "SHA-1", hexLength: 40 }
}

const encoder = new TextEncoder()

const importKey = (secret: Redacted.Redacted<string>, algorithm: Algorithm): Promise<CryptoKey> =>
  crypto.subtle.importKey(
    "raw",
    encoder.encode(Redacted.value(secret)),
    { name: "HMAC", hash: HASH[algorithm].name },
    false,
    ["sign"]
  )

const HEX = /^[0-9a-fA-F]+$/

const parseHex = (hex: string): Uint8Array => {
  const out = new Uint8Array(hex.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16)
  return out
}

/**
 * Compares two byte arrays of equal length in time that depends only on the length.
 *
 * @since 0.1.0
 * @category utils
 */
export const timingSafeEqual = (a: Uint8Array, b: Uint8Array): boolean => {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!
  return diff === 0
}

const toHex = (bytes: ArrayBuffer): string => {
  const view = new Uint8Array(bytes)
  let out = ""
  for (let i = 0; i < view.length; i++) out += view[i]!.toString(16).padStart(2, "0")
  return out
}

/**
 * The `X-Hub-Signature-256` value GitHub would send for a body: `sha256=<hex>`.
 *
 * @since 0.1.0
 * @category signing
 */
export const sign = (
  secret: Redacted.Redacted<string>,
  body: Uint8Array | string,
  algorithm: Algorithm = "sha256"
): Effect.Effect<string> =>
  Effect.promise(async () => {
    const key = await importKey(secret, algorithm)
    const bytes = typeof body === "string" ? encoder.encode(body) : body
    return `${algorithm}=${toHex(await crypto.subtle.sign("HMAC", key, bytes as BufferSource))}`
  })

/**
 * Builds a verifier: the secrets are imported as Web Crypto keys once.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Verifier> =>
  Effect.gen(function*() {
    const secrets = Redacted.isRedacted(options.secrets)
      ? [options.secrets]
      : (options.secrets as ReadonlyArray<Redacted.Redacted<string>>)
    if (secrets.length === 0) return yield* Effect.dieMessage("Verify.make: at least one webhook secret is needed")
    const allowSha1 = options.allowSha1 === true
    const maxBodyBytes = options.maxBodyBytes ?? MAX_PAYLOAD_BYTES
    const keys256 = yield* Effect.promise(() => Promise.all(secrets.map((secret) => importKey(secret, "sha256"))))
    const keys1 = allowSha1
      ? yield* Effect.promise(() => Promise.all(secrets.map((secret) => importKey(secret, "sha1"))))
      : []

    const check = (
      body: Uint8Array,
      header: string,
      headerName: string,
      expected: Algorithm,
      deliveryId: string | undefined
    ): Effect.Effect<number, VerifyError> => {
      const eq = header.indexOf("=")
      if (eq <= 0) return Effect.fail(new WebhookSignatureMalformed({ header: headerName, deliveryId }))
      const algorithm = header.slice(0, eq).trim().toLowerCase()
      const hex = header.slice(eq + 1).trim()
      if (algorithm !== expected) {
        return Effect.fail(new WebhookUnsupportedAlgorithm({ algorithm, deliveryId }))
      }
      if (hex.length !== HASH[expected].hexLength || !HEX.test(hex)) {
        return Effect.fail(new WebhookSignatureMalformed({ header: headerName, deliveryId }))
      }
      const given = parseHex(hex)
      const keys = expected === "sha256" ? keys256 : keys1
      return Effect.flatMap(
        Effect.promise(async () => {
          // Every secret is tried whatever matches, so the time taken says nothing about which one did.
          let found = -1
          for (let i = 0; i < keys.length; i++) {
            const mac = new Uint8Array(await crypto.subtle.sign("HMAC", keys[i]!, body as BufferSource))
            if (timingSafeEqual(mac, given) && found < 0) found = i
          }
          return found
        }),
        (found) =>
          found < 0
            ? Effect.fail(new WebhookSignatureMismatch({ algorithm, secretsTried: keys.length, deliveryId }))
            : Effect.succeed(found)
      )
    }

    const verify = (body: Uint8Array, signatures: Signatures): Effect.Effect<number, VerifyError> => {
      const deliveryId = signatures.deliveryId
      if (body.length > maxBodyBytes) {
        return Effect.fail(new WebhookPayloadTooLarge({ limit: maxBodyBytes, deliveryId }))
      }
      const s256 = signatures.signature256?.trim()
      if (s256 !== undefined && s256 !== "") return check(body, s256, "X-Hub-Signature-256", "sha256", deliveryId)
      const s1 = signatures.signature1?.trim()
      if (s1 !== undefined && s1 !== "") {
        return allowSha1
          ? check(body, s1, "X-Hub-Signature", "sha1", deliveryId)
          : Effect.fail(new WebhookUnsupportedAlgorithm({ algorithm: "sha1", deliveryId }))
      }
      return Effect.fail(new WebhookSignatureMissing({ deliveryId }))
    }

    return { maxBodyBytes, verify }
  })
