import * as AppAuth from "@effect-github/app/AppAuth"
import { JwtError, PrivateKeyError } from "@effect-github/app/GithubError"
import { NodeFileSystem } from "@effect/platform-node"
import * as FileSystem from "@effect/platform/FileSystem"
import { assert, describe, it } from "@effect/vitest"
import { ConfigError, ConfigProvider, Duration, Effect, Exit, Fiber, Layer, Redacted, TestClock } from "effect"
import { decodeProtectedHeader, importSPKI, jwtVerify } from "jose"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { inspect } from "node:util"
import { bodyFragment, keys } from "./keys.js"

/** 2025-01-15T12:00:00Z, a whole second. */
const T = Date.UTC(2025, 0, 15, 12, 0, 0)
const seconds = (millis: number) => Math.floor(millis / 1000)

const verify = (jwt: Redacted.Redacted<string>, at: number) =>
  Effect.promise(async () => {
    const key = await importSPKI(keys.spki, "RS256")
    const { payload } = await jwtVerify(Redacted.value(jwt), key, { algorithms: ["RS256"], currentDate: new Date(at) })
    return payload
  })

/** A signer that counts its calls and returns a JWT-shaped string holding the claims. */
const countingSigner = (delay: Duration.DurationInput = 0) => {
  const calls: Array<{ claims: AppAuth.JwtClaims; algorithm: string }> = []
  const sign: AppAuth.Signer = (claims, algorithm) =>
    Effect.sync(() => {
      calls.push({ claims, algorithm })
      return `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.sig${calls.length}`
    }).pipe(Effect.delay(delay))
  return { sign, calls }
}

const configError = (error: unknown): ConfigError.ConfigError => {
  assert.isTrue(ConfigError.isConfigError(error), `not a ConfigError: ${String(error)}`)
  return error as ConfigError.ConfigError
}

const claimsOf = (jwt: Redacted.Redacted<string>) =>
  JSON.parse(Buffer.from(Redacted.value(jwt).split(".")[1]!, "base64url").toString()) as AppAuth.JwtClaims

const keyError = (privateKey: string | Redacted.Redacted<string>) => Effect.flip(AppAuth.make({ appId: 1, privateKey }))

const assertNoLeak = (value: unknown, ...secrets: Array<string>) => {
  const renderings = [String(value), JSON.stringify(value), inspect(value, { depth: 10 })]
  for (const text of renderings) {
    for (const secret of secrets) assert.isFalse(text.includes(secret), `leaked in: ${text.slice(0, 200)}`)
  }
}

describe("AppAuth JWTs", () => {
  it.effect("signs RS256 with PyGithub's claims: iat now - 60 s, exp now + 300 s, iss the App ID as a string", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(T + 400)
      const auth = yield* AppAuth.make({ appId: 12345, privateKey: keys.pkcs1 })
      const jwt = yield* auth.createJwt()
      assert.deepStrictEqual(decodeProtectedHeader(Redacted.value(jwt)), { alg: "RS256", typ: "JWT" })
      const payload = yield* verify(jwt, T)
      assert.deepStrictEqual(payload, { iat: seconds(T) - 60, exp: seconds(T) + 300, iss: "12345" })
      assert.strictEqual(auth.issuer, "12345")
    }))

  it.effect("accepts a Client ID as issuer", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(T)
      const auth = yield* AppAuth.make({ appId: " Iv23liAbCdEf012345 ", privateKey: Redacted.make(keys.pkcs8) })
      assert.strictEqual((yield* verify(yield* auth.createJwt(), T)).iss, "Iv23liAbCdEf012345")
    }))

  it.effect("createJwt takes an expiration of 15..600 s, and jwtExpiry / jwtIssuedAt change the defaults", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(T)
      const auth = yield* AppAuth.make({ appId: 1, privateKey: keys.pkcs1 })
      assert.strictEqual(claimsOf(yield* auth.createJwt({ expiration: "10 minutes" })).exp, seconds(T) + 600)
      assert.strictEqual(claimsOf(yield* auth.createJwt({ expiration: "15 seconds" })).exp, seconds(T) + 15)
      for (const expiration of ["601 seconds", "14 seconds", Duration.infinity, -1] as const) {
        const error = yield* Effect.flip(auth.createJwt({ expiration }))
        assert.strictEqual(error._tag, "JwtError")
        assert.strictEqual(error.reason, "InvalidOptions")
        assert.include(error.message, "from 15 to 600 seconds")
      }
      const custom = yield* AppAuth.make({
        appId: 1,
        privateKey: keys.pkcs1,
        jwtExpiry: "2 minutes",
        jwtIssuedAt: "30 seconds"
      })
      assert.deepStrictEqual(claimsOf(yield* custom.createJwt()), {
        iat: seconds(T) - 30,
        exp: seconds(T) + 120,
        iss: "1"
      })
    }))

  it.effect("refuses bad options when the layer is built", () =>
    Effect.gen(function*() {
      const bad: Array<AppAuth.Options> = [
        { appId: 1, privateKey: keys.pkcs1, jwtExpiry: "601 seconds" },
        { appId: 1, privateKey: keys.pkcs1, jwtExpiry: "14 seconds" },
        { appId: 1, privateKey: keys.pkcs1, jwtIssuedAt: -60 },
        { appId: 1, privateKey: keys.pkcs1, jwtIssuedAt: "11 minutes" },
        { appId: 1, privateKey: keys.pkcs1, algorithm: "HS256" },
        { appId: 0, privateKey: keys.pkcs1 },
        { appId: -5, privateKey: keys.pkcs1 },
        { appId: 1.5, privateKey: keys.pkcs1 },
        { appId: "", privateKey: keys.pkcs1 },
        { appId: "12 34", privateKey: keys.pkcs1 },
        { appId: 1, privateKey: keys.pkcs1, sign: countingSigner().sign }
      ]
      for (const options of bad) {
        const exit = yield* Effect.exit(Layer.build(AppAuth.layer(options)).pipe(Effect.scoped))
        assert.isTrue(Exit.isFailure(exit))
        const error = yield* Effect.flip(AppAuth.make(options))
        assert.instanceOf(error, JwtError)
        assert.strictEqual((error as JwtError).reason, "InvalidOptions")
        assertNoLeak(error, bodyFragment(keys.pkcs1))
      }
      const noKey = yield* Effect.flip(AppAuth.make({ appId: 1 }))
      assert.instanceOf(noKey, PrivateKeyError)
      assert.strictEqual((noKey as PrivateKeyError).problem, "Empty")
    }))

  it.effect("jwt reuses one JWT until less than 60 s of it remain", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(T)
      const auth = yield* AppAuth.make({ appId: 1, privateKey: keys.pkcs1 })
      const first = yield* auth.jwt
      assert.strictEqual(Redacted.value(yield* auth.jwt), Redacted.value(first))
      yield* TestClock.adjust("240 seconds")
      assert.strictEqual(Redacted.value(yield* auth.jwt), Redacted.value(first), "exactly 60 s left: still reused")
      yield* TestClock.adjust("1 second")
      const second = yield* auth.jwt
      assert.notStrictEqual(Redacted.value(second), Redacted.value(first))
      assert.deepStrictEqual(yield* verify(second, T + 241_000), {
        iat: seconds(T) + 241 - 60,
        exp: seconds(T) + 241 + 300,
        iss: "1"
      })
    }))

  it.effect("a short-lived JWT is reused for half its life", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(T)
      const { calls, sign } = countingSigner()
      const auth = yield* AppAuth.make({ appId: 1, sign, jwtExpiry: "30 seconds" })
      yield* auth.jwt
      yield* TestClock.adjust("15 seconds")
      yield* auth.jwt
      assert.strictEqual(calls.length, 1)
      yield* TestClock.adjust("1 second")
      yield* auth.jwt
      assert.strictEqual(calls.length, 2)
    }))

  it.effect("concurrent callers share one signature", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(T)
      const { calls, sign } = countingSigner("1 second")
      const auth = yield* AppAuth.make({ appId: 1, sign })
      const fiber = yield* Effect.fork(
        Effect.all(Array.from({ length: 20 }, () => auth.jwt), { concurrency: "unbounded" })
      )
      yield* TestClock.adjust("1 second")
      const jwts = yield* Fiber.join(fiber)
      assert.strictEqual(calls.length, 1)
      assert.strictEqual(new Set(jwts.map(Redacted.value)).size, 1)
      assert.strictEqual(Redacted.value(yield* auth.jwt), Redacted.value(jwts[0]!))
      assert.strictEqual(calls.length, 1)
    }))

  it.effect("createJwt always signs; invalidate drops the reused JWT", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(T)
      const { calls, sign } = countingSigner()
      const auth = yield* AppAuth.make({ appId: 1, sign })
      yield* auth.createJwt()
      yield* auth.createJwt()
      assert.strictEqual(calls.length, 2)
      const reused = yield* auth.jwt
      assert.strictEqual(Redacted.value(yield* auth.jwt), Redacted.value(reused))
      assert.strictEqual(calls.length, 3)
      yield* auth.invalidate
      assert.notStrictEqual(Redacted.value(yield* auth.jwt), Redacted.value(reused))
      assert.strictEqual(calls.length, 4)
    }))

  it.effect("signs on the server's clock once observeServerTime gave it", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(T)
      const auth = yield* AppAuth.make({ appId: 1, privateKey: keys.pkcs1 })
      assert.strictEqual(yield* auth.clockOffset, 0)
      yield* auth.observeServerTime(new Date(T + 120_000))
      assert.strictEqual(yield* auth.clockOffset, 120_000)
      assert.deepStrictEqual(yield* verify(yield* auth.createJwt(), T + 120_000), {
        iat: seconds(T) + 120 - 60,
        exp: seconds(T) + 120 + 300,
        iss: "1"
      })
      // A server behind us.
      yield* auth.observeServerTime(new Date(T - 3_600_000))
      assert.strictEqual(yield* auth.clockOffset, -3_600_000)
      assert.strictEqual(claimsOf(yield* auth.createJwt()).iat, seconds(T) - 3600 - 60)
      // Nonsense is ignored.
      yield* auth.observeServerTime(new Date(NaN))
      yield* auth.observeServerTime("Wed, 15 Jan 2025" as unknown as Date)
      assert.strictEqual(yield* auth.clockOffset, -3_600_000)
    }))

  it.effect("keeps the reused JWT through small offset changes, re-signs after a large one", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(T)
      const { calls, sign } = countingSigner()
      const auth = yield* AppAuth.make({ appId: 1, sign })
      const first = yield* auth.jwt
      yield* auth.observeServerTime(new Date(T + 2_000))
      assert.strictEqual(Redacted.value(yield* auth.jwt), Redacted.value(first))
      assert.strictEqual(claimsOf(yield* auth.jwt).iat, seconds(T) - 60, "claims change only when re-signing")
      yield* auth.observeServerTime(new Date(T + 120_000))
      const second = yield* auth.jwt
      assert.strictEqual(calls.length, 2)
      assert.strictEqual(claimsOf(second).iat, seconds(T) + 120 - 60)
    }))

  it.effect("re-signs when the local clock jumps back", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(T)
      const { calls, sign } = countingSigner()
      const auth = yield* AppAuth.make({ appId: 1, sign })
      yield* auth.jwt
      yield* TestClock.setTime(T - 3_600_000)
      assert.strictEqual(claimsOf(yield* auth.jwt).iat, seconds(T) - 3600 - 60)
      assert.strictEqual(calls.length, 2)
    }))
})

describe("AppAuth custom signer", () => {
  it.effect("receives the claims and the algorithm, and its JWT is returned", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(T)
      const { calls, sign } = countingSigner()
      const auth = yield* AppAuth.make({ appId: "Iv1.abc", sign })
      const jwt = yield* auth.createJwt({ expiration: "5 minutes" })
      assert.deepStrictEqual(calls[0], {
        claims: { iat: seconds(T) - 60, exp: seconds(T) + 300, iss: "Iv1.abc" },
        algorithm: "RS256"
      })
      assert.deepStrictEqual(claimsOf(jwt), calls[0]!.claims)
      const other = yield* AppAuth.make({ appId: 1, sign, algorithm: "PS256" })
      yield* other.createJwt()
      assert.strictEqual(calls[1]!.algorithm, "PS256")
      const redacting = yield* AppAuth.make({ appId: 1, sign: () => Effect.succeed(Redacted.make("a.b.c")) })
      assert.strictEqual(Redacted.value(yield* redacting.jwt), "a.b.c")
    }))

  it.effect("its failures, exceptions and malformed answers become JwtError SignerFailed without their text", () =>
    Effect.gen(function*() {
      const signers: Array<[AppAuth.Signer, string]> = [
        [() => Effect.fail({ _tag: "KmsUnavailable", message: "key s3cr3t-material refused" }), "KmsUnavailable"],
        [() => Effect.fail(new Error("s3cr3t-material")), "custom signer failed"],
        [() => Effect.die(new Error("s3cr3t-material")), "with an exception"],
        [() => {
          throw new Error("s3cr3t-material")
        }, "with an exception"],
        [() => Effect.succeed("<html>s3cr3t-material</html>"), "not a compact JWT"]
      ]
      for (const [sign, expected] of signers) {
        const auth = yield* AppAuth.make({ appId: 1, sign })
        for (const effect of [auth.jwt, auth.createJwt()]) {
          const error = yield* Effect.flip(effect)
          assert.strictEqual(error._tag, "JwtError")
          assert.strictEqual(error.reason, "SignerFailed")
          assert.include(error.message, expected)
          assertNoLeak(error, "s3cr3t")
        }
      }
    }))
})

describe("AppAuth private keys", () => {
  const escaped = keys.pkcs1.trim().replace(/\n/g, "\\n")
  const accepted: Record<string, string | Redacted.Redacted<string>> = {
    "PKCS#1 PEM (GitHub's download)": keys.pkcs1,
    "PKCS#8 PEM": keys.pkcs8,
    "Redacted PEM": Redacted.make(keys.pkcs1),
    "literal \\n escapes (an env var)": escaped,
    "literal \\r\\n escapes": keys.pkcs1.trim().replace(/\n/g, "\\r\\n"),
    "double-escaped \\\\n": keys.pkcs1.trim().replace(/\n/g, "\\\\n"),
    "CRLF": keys.pkcs1.replace(/\n/g, "\r\n"),
    "double quotes and whitespace": `  "${escaped}"\n`,
    "single quotes": `'${keys.pkcs8}'`,
    "newlines turned into spaces": keys.pkcs1.trim().replace(/\n/g, " "),
    "indented lines": keys.pkcs1.replace(/\n/g, "\n    "),
    "base64-encoded PEM": Buffer.from(keys.pkcs1).toString("base64"),
    "base64 DER without BEGIN/END lines": keys.pkcs1Der.toString("base64"),
    "key followed by a certificate": keys.pkcs1 + keys.certificate,
    "certificate followed by a key": keys.certificate + keys.pkcs8
  }
  for (const [name, privateKey] of Object.entries(accepted)) {
    it.effect(`accepts ${name}`, () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(T)
        const auth = yield* AppAuth.make({ appId: 7, privateKey })
        assert.strictEqual((yield* verify(yield* auth.jwt, T)).iss, "7")
      }))
  }

  const refused: Array<[string, string, PrivateKeyError["problem"], string?]> = [
    ["empty", "", "Empty"],
    ["only whitespace", "  \n\t ", "Empty"],
    ["empty quotes", "\"\"", "Empty"],
    ["only the BEGIN line", "-----BEGIN RSA PRIVATE KEY-----", "Truncated", "first line"],
    ["cut after a few lines", keys.pkcs1.split("\n").slice(0, 4).join("\n"), "Truncated"],
    ["an escaped PEM cut short", escaped.slice(0, 200), "Truncated"],
    ["OpenSSH format", keys.openSsh, "OpenSsh", "ssh-keygen -p -m PEM"],
    ["OpenSSH BEGIN line alone", "-----BEGIN OPENSSH PRIVATE KEY-----", "OpenSsh"],
    ["a public key (SPKI)", keys.spki, "PublicKey"],
    ["a public key (PKCS#1)", keys.publicPkcs1, "PublicKey"],
    ["an OpenSSH public key", "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 user@host", "PublicKey"],
    ["a certificate", keys.certificate, "Certificate"],
    ["an encrypted PKCS#8 key", keys.encryptedPkcs8, "Encrypted", "openssl pkey"],
    ["an encrypted PKCS#1 key", keys.encryptedPkcs1, "Encrypted"],
    ["an EC key (SEC1)", keys.ecSec1, "NotRsa", "EC"],
    ["an EC key (PKCS#8)", keys.ecPkcs8, "NotRsa", "EC"],
    ["an Ed25519 key", keys.ed25519, "NotRsa", "ed25519"],
    ["an RSA-PSS key", keys.rsaPss, "NotRsa", "RSA-PSS"],
    ["a 1024-bit RSA key", keys.rsa1024, "TooShort", "1024-bit"],
    ["text that is no key", "hello, world!", "Unparseable"],
    ["a corrupted body", keys.pkcs1.replace(/\n[^\n]+\n/, "\nAAAA\n"), "Unparseable"],
    [
      "a body that is not base64",
      "-----BEGIN RSA PRIVATE KEY-----\n!!!!\n-----END RSA PRIVATE KEY-----",
      "Unparseable"
    ],
    ["an unknown PEM block", "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----", "Unparseable"],
    ["base64 of something else", Buffer.from("not a key at all").toString("base64"), "Unparseable"]
  ]
  for (const [name, privateKey, problem, hint] of refused) {
    it.effect(`refuses ${name}: ${problem}`, () =>
      Effect.gen(function*() {
        const error = yield* keyError(privateKey)
        assert.instanceOf(error, PrivateKeyError)
        const keyErrorValue = error as PrivateKeyError
        assert.strictEqual(keyErrorValue.problem, problem)
        assert.include(keyErrorValue.message, keyErrorValue.description)
        if (hint !== undefined) assert.include(keyErrorValue.description, hint)
        if (privateKey.split("\n").length > 3) assertNoLeak(error, bodyFragment(privateKey))
        assertNoLeak(error, "AAAAB3NzaC1yc2E")
        // The same error when building the layer.
        const exit = yield* Effect.exit(Layer.build(AppAuth.layer({ appId: 1, privateKey })).pipe(Effect.scoped))
        assert.deepStrictEqual(exit, Exit.fail(error))
      }))
  }
})

describe("AppAuth input that is not a key at all", () => {
  // What an unset variable, a mistyped config or a JavaScript caller hands over: a typed error, never a TypeError.
  const values: Array<[string, unknown, PrivateKeyError["problem"], RegExp]> = [
    ["undefined (an unset env var behind `!`)", undefined, "Empty", /is undefined|no private key was given/],
    ["null", null, "Empty", /is null/],
    ["a number", 12345, "Unparseable", /a number, not text/],
    ["an object", { pem: "x" }, "Unparseable", /an object, not text/],
    ["an array", ["-----BEGIN RSA PRIVATE KEY-----"], "Unparseable", /an array, not text/],
    ["a boolean", true, "Unparseable", /a boolean, not text/]
  ]
  for (const [name, value, problem, hint] of values) {
    it.effect(`${name}, plain or Redacted, is PrivateKeyError ${problem}`, () =>
      Effect.gen(function*() {
        for (const privateKey of [value, Redacted.make(value)]) {
          // Effect.flip lets a defect through: a TypeError would fail the test here.
          const made = yield* Effect.flip(AppAuth.make({ appId: 1, privateKey } as unknown as AppAuth.Options))
          assert.instanceOf(made, PrivateKeyError)
          const error = yield* Effect.flip(
            Layer.build(AppAuth.layer({ appId: 1, privateKey } as unknown as AppAuth.Options)).pipe(Effect.scoped)
          )
          assert.instanceOf(error, PrivateKeyError)
          assert.strictEqual((error as PrivateKeyError).problem, problem)
          assert.match((error as PrivateKeyError).description, hint)
        }
      }))
  }

  it.effect("options that are not an object, or a sign that is not a function, are JwtError InvalidOptions", () =>
    Effect.gen(function*() {
      for (const options of [undefined, null, 7, "appId"]) {
        const error = yield* Effect.flip(AppAuth.make(options as unknown as AppAuth.Options))
        assert.instanceOf(error, JwtError)
        assert.strictEqual((error as JwtError).reason, "InvalidOptions")
      }
      const error = yield* Effect.flip(AppAuth.make({ appId: 1, sign: "kms" } as unknown as AppAuth.Options))
      assert.strictEqual((error as JwtError).reason, "InvalidOptions")
      assert.include((error as JwtError).description, "sign must be a function")
    }))
})

describe("AppAuth redaction", () => {
  it.effect("neither the service nor its JWTs print the key or the JWT", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(T)
      const auth = yield* AppAuth.AppAuth.pipe(Effect.provide(AppAuth.layer({ appId: 99, privateKey: keys.pkcs1 })))
      const jwt = yield* auth.jwt
      const text = Redacted.value(jwt)
      const signature = text.split(".")[2]!
      assertNoLeak(auth, bodyFragment(keys.pkcs1), signature)
      assertNoLeak(jwt, text, signature)
      assertNoLeak(yield* auth.createJwt(), signature)
      assert.strictEqual(String(auth), "AppAuth(99)")
      assert.strictEqual(JSON.stringify(auth), "{\"_id\":\"AppAuth\",\"issuer\":\"99\"}")
      assert.strictEqual(String(jwt), "<redacted>")
    }))
})

describe("AppAuth.layerConfig", () => {
  const run = <A, E>(
    env: Record<string, string>,
    effect: Effect.Effect<A, E, AppAuth.AppAuth>,
    overrides?: Partial<AppAuth.Options>,
    fs: Layer.Layer<FileSystem.FileSystem> = NodeFileSystem.layer
  ) =>
    effect.pipe(
      Effect.provide(AppAuth.layerConfig(overrides).pipe(Layer.provide(fs))),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
    )
  const claims = Effect.flatMap(AppAuth.AppAuth, (auth) => Effect.map(auth.createJwt(), claimsOf))

  it.effect("reads GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY (with \\n escapes)", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(T)
      const env = { GITHUB_APP_ID: "4242", GITHUB_APP_PRIVATE_KEY: keys.pkcs1.replace(/\n/g, "\\n") }
      const jwt = yield* run(env, Effect.flatMap(AppAuth.AppAuth, (auth) => auth.jwt))
      assert.strictEqual((yield* verify(jwt, T)).iss, "4242")
    }))

  it.effect("reads GITHUB_APP_CLIENT_ID and GITHUB_APP_PRIVATE_KEY_FILE", () =>
    Effect.gen(function*() {
      const file = join(mkdtempSync(join(tmpdir(), "appauth-")), "app.pem")
      writeFileSync(file, keys.pkcs1)
      const env = { GITHUB_APP_CLIENT_ID: "Iv23liXyZ", GITHUB_APP_PRIVATE_KEY_FILE: file }
      assert.strictEqual((yield* run(env, claims)).iss, "Iv23liXyZ")
    }))

  it.effect("a missing key file is PrivateKeyError Unreadable naming the path", () =>
    Effect.gen(function*() {
      const file = join(tmpdir(), "appauth-does-not-exist", "app.pem")
      const error = yield* Effect.flip(run({ GITHUB_APP_ID: "1", GITHUB_APP_PRIVATE_KEY_FILE: file }, claims))
      assert.instanceOf(error, PrivateKeyError)
      assert.strictEqual((error as PrivateKeyError).problem, "Unreadable")
      assert.include((error as PrivateKeyError).description, file)
      assert.include((error as PrivateKeyError).description, "NotFound")
    }))

  it.effect("a key file holding a bad key is refused like an inline one", () =>
    Effect.gen(function*() {
      const fs = FileSystem.layerNoop({ readFileString: () => Effect.succeed(keys.rsa1024) })
      const error = yield* Effect.flip(
        run({ GITHUB_APP_ID: "1", GITHUB_APP_PRIVATE_KEY_FILE: "/keys/app.pem" }, claims, undefined, fs)
      )
      assert.strictEqual((error as PrivateKeyError).problem, "TooShort")
      assertNoLeak(error, bodyFragment(keys.rsa1024))
    }))

  it.effect("missing or conflicting settings are ConfigErrors that say what to set", () =>
    Effect.gen(function*() {
      const noId = yield* Effect.flip(run({ GITHUB_APP_PRIVATE_KEY: keys.pkcs1 }, claims))
      assert.strictEqual(configError(noId)._op, "MissingData")
      assert.include(String(noId), "GITHUB_APP_CLIENT_ID")
      assertNoLeak(noId, bodyFragment(keys.pkcs1))
      const noKey = yield* Effect.flip(run({ GITHUB_APP_ID: "1" }, claims))
      assert.strictEqual(configError(noKey)._op, "MissingData")
      assert.include(String(noKey), "GITHUB_APP_PRIVATE_KEY_FILE")
      const blankKey = yield* Effect.flip(run({ GITHUB_APP_ID: "1", GITHUB_APP_PRIVATE_KEY: "  " }, claims))
      assert.strictEqual(configError(blankKey)._op, "MissingData")
      const both = yield* Effect.flip(
        run({ GITHUB_APP_ID: "1", GITHUB_APP_PRIVATE_KEY: keys.pkcs1, GITHUB_APP_PRIVATE_KEY_FILE: "/x.pem" }, claims)
      )
      assert.strictEqual(configError(both)._op, "InvalidData")
      assertNoLeak(both, bodyFragment(keys.pkcs1))
    }))

  it.effect("overrides win over the environment; with sign, no key is read", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(T)
      const env = { GITHUB_APP_ID: "1", GITHUB_APP_PRIVATE_KEY: keys.pkcs1 }
      assert.deepStrictEqual(yield* run(env, claims, { jwtExpiry: "10 minutes", appId: 77 }), {
        iat: seconds(T) - 60,
        exp: seconds(T) + 600,
        iss: "77"
      })
      const { calls, sign } = countingSigner()
      assert.strictEqual((yield* run({ GITHUB_APP_ID: "5" }, claims, { sign })).iss, "5")
      assert.strictEqual(calls.length, 1)
      const error = yield* Effect.flip(run(env, claims, { jwtExpiry: "1 hour" }))
      assert.strictEqual((error as JwtError).reason, "InvalidOptions")
    }))
})
