/**
 * Test keys, generated once per test file: every shape of "private key" a user might hand to AppAuth.
 */
import { generateKeyPairSync } from "node:crypto"

const rsa2048 = generateKeyPairSync("rsa", { modulusLength: 2048 })
const rsa1024 = generateKeyPairSync("rsa", { modulusLength: 1024 })
const ec = generateKeyPairSync("ec", { namedCurve: "prime256v1" })
const ed25519 = generateKeyPairSync("ed25519")
const rsaPss = generateKeyPairSync("rsa-pss", { modulusLength: 2048 })

const pem = (text: string | Buffer): string => text.toString()

export const keys = {
  /** What GitHub's "Generate a private key" downloads. */
  pkcs1: pem(rsa2048.privateKey.export({ type: "pkcs1", format: "pem" })),
  pkcs8: pem(rsa2048.privateKey.export({ type: "pkcs8", format: "pem" })),
  pkcs1Der: rsa2048.privateKey.export({ type: "pkcs1", format: "der" }),
  /** The matching public key, for verifying with jose. */
  spki: pem(rsa2048.publicKey.export({ type: "spki", format: "pem" })),
  publicPkcs1: pem(rsa2048.publicKey.export({ type: "pkcs1", format: "pem" })),
  rsa1024: pem(rsa1024.privateKey.export({ type: "pkcs1", format: "pem" })),
  ecSec1: pem(ec.privateKey.export({ type: "sec1", format: "pem" })),
  ecPkcs8: pem(ec.privateKey.export({ type: "pkcs8", format: "pem" })),
  ed25519: pem(ed25519.privateKey.export({ type: "pkcs8", format: "pem" })),
  rsaPss: pem(rsaPss.privateKey.export({ type: "pkcs8", format: "pem" })),
  encryptedPkcs8: pem(
    rsa2048.privateKey.export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "secret" })
  ),
  encryptedPkcs1: pem(
    rsa2048.privateKey.export({ type: "pkcs1", format: "pem", cipher: "aes-256-cbc", passphrase: "secret" })
  ),
  /** Looks like `ssh-keygen`'s default output; the body is not a real key, only its framing matters. */
  openSsh: "-----BEGIN OPENSSH PRIVATE KEY-----\n" +
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n" +
    "QyNTUxOQAAACBbVv2nWvsFBvWd0gJv3Q3o1zR9zq5dP0u1wW8zQw1xGgAAAJg=\n" +
    "-----END OPENSSH PRIVATE KEY-----\n",
  /** A self-signed certificate's framing; the body is arbitrary base64. */
  certificate: "-----BEGIN CERTIFICATE-----\n" +
    "MIIBszCCAVmgAwIBAgIUQ0VSVElGSUNBVEVfTk9UX0FfS0VZMAoGCCqGSM49BAMCMBQx\n" +
    "EjAQBgNVBAMMCWxvY2FsaG9zdDAeFw0yNTAxMDEwMDAwMDBaFw0yNjAxMDEwMDAwMDBa\n" +
    "-----END CERTIFICATE-----\n"
}

/** A slice of a PEM's body: an error or string that contains it leaks key material. */
export const bodyFragment = (pemText: string): string => pemText.split("\n")[2]!.slice(0, 40)
