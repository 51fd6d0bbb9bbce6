import { Verify } from "@effect-github/webhooks"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, FastCheck as fc, Redacted } from "effect"
import * as Crypto from "node:crypto"

const secret = Redacted.make("It's a Secret to Everybody")
const vector = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
const bytes = (text: string) => new TextEncoder().encode(text)
const hmac = (key: string, body: Uint8Array, algorithm = "sha256") =>
  `${algorithm}=${Crypto.createHmac(algorithm, key).update(body).digest("hex")}`

const tagOf = <A, E extends { _tag: string }>(exit: Exit.Exit<A, E>): string =>
  Exit.isSuccess(exit) ? "Success" : exit.cause._tag === "Fail" ? exit.cause.error._tag : exit.cause._tag

describe("Verify", () => {
  it.effect("GitHub's documented test vector verifies, and sign gives the same signature", () =>
    Effect.gen(function*() {
      const verifier = yield* Verify.make({ secrets: secret })
      assert.strictEqual(yield* verifier.verify(bytes("Hello, World!"), { signature256: vector }), 0)
      assert.strictEqual(yield* Verify.sign(secret, "Hello, World!"), vector)
      // Hex case does not matter (the digest is compared as bytes).
      yield* verifier.verify(bytes("Hello, World!"), { signature256: vector.toUpperCase().replace("SHA256", "sha256") })
    }))

  it.effect("a tampered, truncated or re-serialised body is refused", () =>
    Effect.gen(function*() {
      const verifier = yield* Verify.make({ secrets: secret })
      const original = `{"action":"opened", "number": 1,"title":"caf\u00e9"}`
      const signature = hmac(Redacted.value(secret), bytes(original))
      yield* verifier.verify(bytes(original), { signature256: signature })
      const reserialised = JSON.stringify(JSON.parse(original))
      assert.notStrictEqual(reserialised, original)
      for (const body of [reserialised, original.slice(0, -1), original + "\n", original.replace("1", "2")]) {
        assert.strictEqual(
          tagOf(yield* Effect.exit(verifier.verify(bytes(body), { signature256: signature }))),
          "WebhookSignatureMismatch"
        )
      }
    }))

  it.effect("rotation: any configured secret verifies, and the index says which", () =>
    Effect.gen(function*() {
      const body = bytes("{\"zen\":\"Keep it logically awesome.\"}")
      const verifier = yield* Verify.make({ secrets: [Redacted.make("new"), Redacted.make("old")] })
      assert.strictEqual(yield* verifier.verify(body, { signature256: hmac("new", body) }), 0)
      assert.strictEqual(yield* verifier.verify(body, { signature256: hmac("old", body) }), 1)
      const wrong = yield* Effect.flip(verifier.verify(body, { signature256: hmac("other", body) }))
      assert.strictEqual(wrong._tag, "WebhookSignatureMismatch")
      assert.strictEqual((wrong as any).secretsTried, 2)
      // No error mentions a secret.
      assert.notInclude(wrong.message + JSON.stringify(wrong), "new")
      assert.notInclude(wrong.message + JSON.stringify(wrong), "old")
    }))

  it.effect("missing, malformed and unknown-algorithm signatures get distinct errors", () =>
    Effect.gen(function*() {
      const body = bytes("{}")
      const verifier = yield* Verify.make({ secrets: secret })
      const good = hmac(Redacted.value(secret), body)
      const cases: ReadonlyArray<readonly [Verify.Signatures, string]> = [
        [{}, "WebhookSignatureMissing"],
        [{ signature256: "" }, "WebhookSignatureMissing"],
        [{ signature256: good.slice(7) }, "WebhookSignatureMalformed"],
        [{ signature256: good.slice(0, -2) }, "WebhookSignatureMalformed"],
        [{ signature256: good.slice(0, -1) + "z" }, "WebhookSignatureMalformed"],
        [{ signature256: "sha512=" + "0".repeat(128) }, "WebhookUnsupportedAlgorithm"],
        [{ signature1: hmac(Redacted.value(secret), body, "sha1") }, "WebhookUnsupportedAlgorithm"]
      ]
      for (const [signatures, expected] of cases) {
        assert.strictEqual(tagOf(yield* Effect.exit(verifier.verify(body, signatures))), expected)
      }
    }))

  it.effect("SHA-1 is accepted only when asked for, and SHA-256 wins when both are sent", () =>
    Effect.gen(function*() {
      const body = bytes("{\"a\":1}")
      const sha1 = hmac(Redacted.value(secret), body, "sha1")
      const verifier = yield* Verify.make({ secrets: secret, allowSha1: true })
      yield* verifier.verify(body, { signature1: sha1 })
      const both = yield* Effect.exit(verifier.verify(body, { signature1: sha1, signature256: hmac("x", body) }))
      assert.strictEqual(tagOf(both), "WebhookSignatureMismatch")
    }))

  it.effect("a body over the cap is refused before any HMAC", () =>
    Effect.gen(function*() {
      const verifier = yield* Verify.make({ secrets: secret, maxBodyBytes: 10 })
      const body = bytes("12345678901")
      const error = yield* Effect.flip(verifier.verify(body, { signature256: hmac(Redacted.value(secret), body) }))
      assert.strictEqual(error._tag, "WebhookPayloadTooLarge")
      assert.strictEqual((yield* Verify.make({ secrets: secret })).maxBodyBytes, 25 * 1024 * 1024)
    }))

  it.effect("property: any change of any byte of a signed body is refused", () =>
    Effect.gen(function*() {
      const verifier = yield* Verify.make({ secrets: secret })
      const samples = fc.sample(
        fc.tuple(
          fc.uint8Array({ minLength: 1, maxLength: 512 }),
          fc.nat(),
          fc.integer({ min: 1, max: 255 })
        ),
        { numRuns: 300, seed: 15 }
      )
      for (const [body, position, delta] of samples) {
        const signature = hmac(Redacted.value(secret), body)
        const changed = Uint8Array.from(body)
        const at = position % body.length
        changed[at] = (changed[at]! + delta) % 256
        yield* verifier.verify(body, { signature256: signature })
        assert.strictEqual(
          tagOf(yield* Effect.exit(verifier.verify(changed, { signature256: signature }))),
          "WebhookSignatureMismatch"
        )
      }
    }))

  it("timingSafeEqual compares whole arrays", () => {
    assert.isTrue(Verify.timingSafeEqual(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 3)))
    assert.isFalse(Verify.timingSafeEqual(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 4)))
    assert.isFalse(Verify.timingSafeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 3)))
  })
})
