/**
 * Issue 9, section 3: secrets. A tour of every public operation (and of its failures) over loopback HTTP, with
 * every log line (all levels, rendered by the usual loggers), every span with its attributes and failure cause,
 * every error and every public value rendered with String, JSON.stringify and util.inspect, searched for the
 * private key's text, every JWT that went over the wire or was handed out, and every installation token issued.
 * (The fault matrix scans its own runs the same way: its "leaks" column.)
 */
import { AppAuth, HttpRequester, Repository } from "@effect-github/app"
import { Fault, GithubSimulator } from "@effect-github/testing"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Crypto from "node:crypto"
import { Capture, connect, scan, Secrets, table, Wire } from "./harness.js"
import { world } from "./workload.js"

const otherKey = Crypto.generateKeyPairSync("rsa", {
  modulusLength: 2048,
  privateKeyEncoding: { type: "pkcs1", format: "pem" },
  publicKeyEncoding: { type: "spki", format: "pem" }
}).privateKey

describe("e2e: secrets", () => {
  it("the scanner finds what it looks for (a control: a leak-free tour proves something only if this fails)", () => {
    const token = `ghs_${"a1B2".repeat(9)}`
    const secrets = new Secrets().token(token).privateKey(otherKey)
    const line = otherKey.split("\n")[5]!
    assert.isAbove(scan([`x ${token} y`], secrets).length, 0)
    assert.isAbove(scan([`{"key":"${line.slice(3, 40)}"}`], secrets).length, 0)
    assert.isAbove(scan([otherKey.split("\n").slice(1, -2).join("")], secrets).length, 0)
    assert.strictEqual(scan(["ghs_<redacted>", "<redacted>", "Bearer <redacted>"], secrets).length, 0)
  })

  it.scopedLive("a full tour leaks no key, JWT or token into logs, spans, errors or printed values", () =>
    Effect.gen(function*() {
      const sim = yield* GithubSimulator.make(world)
      const { url } = yield* sim.server
      const wire = new Wire()
      const capture = new Capture()
      const handedOut = new Secrets()
      const client = yield* connect(sim, { _tag: "Loopback", url }, wire, { retry: 2 })
      const { auth, github, requester, tokens } = client
      const v = (value: unknown) => capture.value(value)
      // what a caller sees of a failure: the error, and the Exit and Cause around it
      const failure = <A, E>(effect: Effect.Effect<A, E>) =>
        Effect.map(Effect.exit(effect), (exit) => {
          v(exit)
          if (Exit.isFailure(exit)) {
            capture.texts.push(Cause.pretty(exit.cause))
            for (const error of Cause.failures(exit.cause)) v(error)
          }
          return exit
        })
      const jwt = (value: Redacted.Redacted<string>) => {
        handedOut.jwt(Redacted.value(value))
        v(value)
      }

      const tour = Effect.gen(function*() {
        // services themselves
        for (const service of [github, tokens, auth, requester, github.requester, github.withLazy(true)]) v(service)
        v(client.context)

        // AppAuth and JWTs
        jwt(yield* auth.jwt)
        jwt(yield* auth.createJwt())
        jwt(yield* auth.createJwt({ expiration: "2 minutes" }))
        jwt(yield* github.createJwt())
        jwt(yield* github.createJwt("1 minute"))
        v(yield* auth.clockOffset)

        // every lookup, eager and lazy
        v(yield* github.getApp())
        v(Chunk.toReadonlyArray(yield* Stream.runCollect(github.getInstallations({ perPage: 10 }))))
        const eager = yield* github.getAppInstallation(1)
        v(eager)
        v(yield* eager.get)
        const lazy = yield* github.withLazy(true).getAppInstallation(2)
        v(lazy)
        v(yield* lazy.get)
        v(yield* github.getOrgInstallation("octo-org"))
        v(yield* github.getRepoInstallation("octo-org", "docs"))
        v(yield* github.getInstallation("octo-org", "api"))
        v(yield* github.getUserInstallation("octocat"))
        v(yield* github.getEnterpriseInstallation("octo-enterprise"))

        // tokens, every way
        const repository = sim.installations[0]!.repositories[1]!
        for (
          const scope of [
            undefined,
            { permissions: { contents: "read" as const } },
            { repositories: ["docs"] },
            { repositoryIds: [repository.id] }
          ]
        ) {
          v(yield* github.getAccessToken(1, scope))
        }
        const ref = yield* github.installation(1)
        v(ref)
        v(yield* ref.accessToken())
        v(Chunk.toReadonlyArray(yield* Stream.runCollect(ref.repositories())))
        v(yield* ref.requester().requestJson({ method: "GET", path: "/installation/repositories" }))
        v(
          yield* ref.requester().request(
            { method: "GET", path: "/installation/repositories" },
            Schema.Struct({ total_count: Schema.Number })
          )
        )
        v(yield* tokens.get(2))
        const minted = yield* tokens.mint(2, { permissions: { issues: "write" } })
        v(minted)
        yield* tokens.invalidate(2)
        yield* tokens.revoke(minted.token)
        v(yield* Effect.scoped(tokens.scoped(1, { repositories: ["api"] })))
        v(yield* tokens.requester(2).requestJson({ method: "GET", path: "/installation/repositories" }))
        v(
          Chunk.toReadonlyArray(
            yield* Stream.runCollect(
              tokens.requester(4).paginatePages(
                { method: "GET", path: "/installation/repositories" },
                Repository.Repository,
                { key: "repositories", perPage: 50 }
              )
            )
          )
        )

        // the raw requester
        v(yield* requester.rateLimit())
        v(yield* github.requester.requestJson({ method: "GET", path: "/app" }))
        v(yield* github.requester.rateLimit())
        // a mint through the raw requester: the body holds the token in clear (callers asked for raw JSON)
        const raw = yield* github.requester.requestJson({
          method: "POST",
          path: "/app/installations/{installation_id}/access_tokens",
          params: { installation_id: 3 }
        })
        handedOut.token((raw.body as { token: string }).token)

        // failures, every kind a caller meets
        yield* failure(github.getOrgInstallation("no-such-org"))
        yield* failure(github.getAccessToken(5))
        yield* failure(github.getAccessToken(1, { repositories: ["not-there"] }))
        yield* failure(github.getAccessToken(1, { permissions: { administration: "admin" } }))
        yield* failure(github.getOrgInstallation("a/b"))
        yield* failure(github.getAccessToken(1, { permissions: { "Bad-Name": "read" } }))
        // a decode error on a body that holds a token: the error must say where, never what
        yield* failure(
          github.requester.request(
            {
              method: "POST",
              path: "/app/installations/{installation_id}/access_tokens",
              params: { installation_id: 1 }
            },
            Schema.Struct({ token: Schema.Number })
          )
        )
        // a revoked token used again: 401 (after one fresh attempt)
        const revoked = yield* tokens.mint(1)
        yield* tokens.revoke(revoked.token)
        yield* failure(
          requester.withCredentials({
            identity: "installation:1",
            authorization: () => Effect.succeed(Redacted.make(`token ${Redacted.value(revoked.token)}`)),
            shouldRefresh: () => true
          }).requestJson({ method: "GET", path: "/installation/repositories" })
        )
        // faults on the wire: truncated and malformed mint bodies (half a token in the body), HTML, 5xx on a DELETE
        // (a scoped token's revocation logs a warning), a reset, a rate limit not waited for
        yield* sim.fault("POST /app/installations/{installation_id}/access_tokens", Fault.truncatedJson)
        yield* failure(tokens.mint(1))
        yield* sim.fault("POST /app/installations/{installation_id}/access_tokens", Fault.malformedJson)
        yield* failure(tokens.mint(1))
        yield* sim.fault("GET /app", Fault.html())
        yield* failure(github.getApp())
        yield* sim.fault("DELETE /installation/token", Fault.status(500))
        yield* failure(Effect.scoped(tokens.scoped(2)))
        yield* sim.fault("DELETE /installation/token", Fault.connectionReset)
        const reset = yield* tokens.mint(2)
        yield* failure(tokens.revoke(reset.token))
        // GitHub's clock 20 minutes ahead: the first JWT is refused for its claims, then re-signed
        yield* sim.setSkew("20 minutes")
        yield* auth.invalidate
        v(yield* github.getApp())
        yield* sim.setSkew(0)
        // last, as it exhausts the app's bucket for an hour: too long to wait, so it fails at once
        yield* sim.fault("GET /app/installations/{installation_id}", Fault.primaryRateLimit({ resetAfter: "1 hour" }))
        yield* failure(github.getAppInstallation(3))
        yield* failure(github.getAppInstallation(3))
      })
      yield* Effect.provide(tour, capture.layer)

      // a JWT of another key (401), a requester whose base URL is refused, keys that cannot be used
      const stranger = yield* Effect.provide(
        Effect.gen(function*() {
          const strangerClient = yield* connect(sim, { _tag: "Loopback", url }, wire, {
            privateKey: Redacted.make(otherKey)
          })
          yield* failure(strangerClient.github.getApp())
          return strangerClient
        }),
        capture.layer
      )
      v(stranger.auth)
      const pem = Redacted.value(sim.app.privateKey)
      for (
        const broken of [
          pem.slice(0, pem.length / 2),
          pem.replace("RSA PRIVATE KEY", "EC PRIVATE KEY"),
          pem.replace(/\n/g, " ").slice(0, 900),
          pem.split("\n").slice(0, 10).join("\n") + "\n-----END RSA PRIVATE KEY-----",
          `"${pem.replace(/\n/g, "\\n")}`,
          Buffer.from(pem.slice(0, 800)).toString("base64")
        ]
      ) {
        yield* failure(AppAuth.make({ appId: sim.app.id, privateKey: broken }))
      }
      yield* failure(AppAuth.make({ appId: sim.app.id, privateKey: pem, jwtExpiry: "1 hour" }))
      // a credential in the base URL (which does not parse: the secret has a "/")
      yield* failure(
        Effect.provide(
          HttpRequester.make({ baseUrl: `https://user:${pem.split("\n")[3]}@github.example.com` }),
          sim.layer
        )
      )

      const secrets = (yield* new Secrets().fromSimulator(sim)).fromWire(wire).privateKey(pem).privateKey(otherKey)
      for (const [needle, kind] of handedOut.needles) secrets.needles.set(needle, kind)
      const sources = {
        "log lines (every level; logfmt, JSON, structured, cause)": capture.logs,
        "spans: names, attributes, events, failure causes": capture.spanTexts(),
        "errors, exits, causes and public values (String, JSON, inspect)": capture.texts
      }
      const rows = Object.entries(sources).map(([source, texts]) => ({
        source,
        items: texts.length,
        chars: texts.reduce((n, text) => n + text.length, 0),
        leaks: scan(texts, secrets).length
      }))
      table("Secrets: what a user's logger, tracer and console could see during the tour", rows)
      table("Secrets searched for", [{
        "private key windows": secrets.count("private key body") + secrets.count("private key line"),
        JWTs: secrets.count("JWT"),
        "installation tokens": secrets.count("installation token"),
        "spans recorded": capture.spans.length,
        "requests sent": wire.sent.length,
        "plus any text shaped like": "ghs_…, eyJ….eyJ….…, BEGIN … PRIVATE KEY"
      }])
      const leaks = scan(capture.allTexts(), secrets)
      assert.deepStrictEqual(leaks.slice(0, 5), [])
      // the tour did what it says: requests, spans, logs at debug, warnings, and a 401 re-sign all happened
      assert.isAbove(secrets.count("installation token"), 10)
      // three lifetimes signed, the re-signed one after the skew, the stranger's (same-second signatures coincide)
      assert.isAtLeast(secrets.count("JWT"), 5)
      assert.isAbove(capture.spans.filter((span) => span.name.startsWith("GitHub ")).length, 40)
      assert.isTrue(capture.logs.some((line) => line.includes("level=WARN")))
      assert.isTrue(wire.sent.some((sent) => sent.status === 401 && sent.path === "/app"))
    }))
})
