/**
 * Tokens at rest: AES-256-GCM with a random 96-bit IV, the Redis key as associated data (an entry copied to another
 * key does not decrypt), and a key id so that rotated keys (a list, newest first) still decrypt older entries.
 */
import * as Redacted from "effect/Redacted"
import * as Crypto from "node:crypto"

/** @internal */
export interface Key {
  readonly id: string
  readonly bytes: Buffer
}

/** @internal */
export type KeyError = { readonly _tag: "KeyError"; readonly description: string }

/** A 32-byte key given as 64 hex digits or base64 (either alphabet). Never echoes the key. @internal */
export const parseKey = (key: Redacted.Redacted<string>, index: number): Key | KeyError => {
  const text = Redacted.value(key).trim()
  const bytes = /^[0-9a-fA-F]{64}$/.test(text)
    ? Buffer.from(text, "hex")
    : /^[A-Za-z0-9+/_-]+={0,2}$/.test(text)
    ? Buffer.from(text.replace(/-/g, "+").replace(/_/g, "/"), "base64")
    : undefined
  if (bytes === undefined || bytes.length !== 32) {
    return {
      _tag: "KeyError",
      description: `encryption key ${index + 1} is not 32 bytes as 64 hex digits or base64 (${
        bytes === undefined ? "not hex or base64" : `${bytes.length} bytes`
      })`
    }
  }
  const id = Crypto.createHash("sha256").update(bytes).digest("hex").slice(0, 8)
  return { id, bytes }
}

const b64 = (buffer: Buffer) => buffer.toString("base64url")

/** "<keyId>.<iv>.<ciphertext>.<tag>" @internal */
export const encrypt = (key: Key, plaintext: string, aad: string): string => {
  const iv = Crypto.randomBytes(12)
  const cipher = Crypto.createCipheriv("aes-256-gcm", key.bytes, iv)
  cipher.setAAD(Buffer.from(aad, "utf8"))
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()])
  return `${key.id}.${b64(iv)}.${b64(body)}.${b64(cipher.getAuthTag())}`
}

/** The plaintext, or undefined for anything that does not decrypt with one of the keys. @internal */
export const decrypt = (keys: ReadonlyArray<Key>, sealed: string, aad: string): string | undefined => {
  const parts = sealed.split(".")
  if (parts.length !== 4) return undefined
  const [id, iv, body, tag] = parts
  for (const key of keys) {
    if (key.id !== id) continue
    try {
      const decipher = Crypto.createDecipheriv("aes-256-gcm", key.bytes, Buffer.from(iv, "base64url"), {
        authTagLength: 16
      })
      decipher.setAAD(Buffer.from(aad, "utf8"))
      decipher.setAuthTag(Buffer.from(tag, "base64url"))
      return Buffer.concat([decipher.update(Buffer.from(body, "base64url")), decipher.final()]).toString("utf8")
    } catch {
      return undefined
    }
  }
  return undefined
}
