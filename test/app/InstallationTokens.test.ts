import { HttpRequester, InstallationTokens, Integration } from "@effect-github/app"
import { Fault, GithubSimulator } from "@effect-github/testing"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Layer, Metric, Redacted, Scope, TestClock } from "effect"

const MINT = "POST /app/installations/{installation_id}/access_tokens"

// In-process simulator: Effect's TestClock drives token expiry on both sides.
const setup = (tokens: InstallationTokens.Options = {}, simulator: GithubSimulator.Options = {}) =>
  Effect.gen(function*() {
    const sim = yield* GithubSimulator.make({
      installations: [{ account: "octo-org", repositories: ["hello-world", "docs"] }],
      installationCount: 99,
      ...simulator
    })
    const context = yield* Layer.build(
      Integration.layerApp({
        appId: sim.app.id,
        privateKey: sim.app.privateKey,
        baseUrl: sim.baseUrl,
        secondsBetweenRequests: 0,
        secondsBetweenWrites: 0,
        tokens
      }).pipe(Layer.provide(sim.layer))
    )
    const cache = yield* Effect.provide(InstallationTokens.InstallationTokens, context)
    const requester = yield* Effect.provide(HttpRequester.HttpRequester, context)
    return { sim, cache, requester }
  })

/** Runs `effect`, one event-loop turn apart (at most 200 times), until `done` holds. */
const settle = <A>(effect: Effect.Effect<A>, done: (a: A) => boolean): Effect.Effect<A> =>
  Effect.gen(function*() {
    let value = yield* effect
    for (let turn = 0; turn < 200 && !done(value); turn++) {
      // real milliseconds, not event-loop turns: a JWT re-signed in WebCrypto's thread takes a few
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 5)))
      value = yield* effect
    }
    return value
  })

const same = (a: Redacted.Redacted<string>, b: Redacted.Redacted<string>) => Redacted.value(a) === Redacted.value(b)

describe("InstallationTokens", () => {
  it.scoped("8 concurrent callers for one installation share one POST", () =>
    Effect.gen(function*() {
      const { cache, sim } = yield* setup()
      const tokens = yield* Effect.all(Array.from({ length: 8 }, () => cache.get(1)), { concurrency: "unbounded" })
      assert.strictEqual(yield* sim.count(MINT), 1)
      assert.isTrue(tokens.every((token) => same(token.token, tokens[0]!.token)))
    }))

  it.scoped("100 concurrent callers over 10 installations mint 10 tokens", () =>
    Effect.gen(function*() {
      const { cache, sim } = yield* setup()
      yield* Effect.all(Array.from({ length: 100 }, (_, i) => cache.get(1 + (i % 10))), { concurrency: "unbounded" })
      assert.strictEqual(yield* sim.count(MINT), 10)
    }))

  it.scoped("scopes are keys: permissions and repositories in any order share a token", () =>
    Effect.gen(function*() {
      const { cache, sim } = yield* setup()
      const a = yield* cache.get(1, { permissions: { contents: "read", issues: "write" }, repositories: ["docs"] })
      const b = yield* cache.get(1, { repositories: ["docs"], permissions: { issues: "write", contents: "read" } })
      const c = yield* cache.get(1, { repositories: ["hello-world", "docs"] })
      const d = yield* cache.get(1, { repositories: ["docs", "hello-world"] })
      const all = yield* cache.get(1)
      assert.isTrue(same(a.token, b.token))
      assert.isTrue(same(c.token, d.token))
      assert.isFalse(same(a.token, c.token))
      assert.isFalse(same(all.token, c.token))
      assert.strictEqual(yield* sim.count(MINT), 3)
    }))

  it.scoped("a token is reused until expires_at minus the margin, then minted again", () =>
    Effect.gen(function*() {
      const { cache, sim } = yield* setup({ refreshMargin: "5 minutes" })
      const first = yield* cache.get(1)
      yield* TestClock.adjust("54 minutes")
      assert.isTrue(same((yield* cache.get(1)).token, first.token))
      yield* TestClock.adjust("1 minute") // 55 minutes: 5 minutes before the hour GitHub gives
      const second = yield* cache.get(1)
      assert.isFalse(same(second.token, first.token))
      assert.strictEqual(yield* sim.count(MINT), 2)
    }))

  it.scoped("a mint refused for good (403 suspended) is remembered for the window: a storm of gets sends one POST", () =>
    Effect.gen(function*() {
      const { cache, sim } = yield* setup({}, { installations: [{ account: "sleepy", suspended: true }] })
      const errors = yield* Effect.all(Array.from({ length: 20 }, () => Effect.flip(cache.get(1))))
      assert.isTrue(errors.every((error) => error._tag === "GithubForbidden"))
      assert.strictEqual(yield* sim.count(MINT), 1)
      yield* TestClock.adjust("29 seconds")
      assert.strictEqual((yield* Effect.flip(cache.get(1)))._tag, "GithubForbidden")
      assert.strictEqual(yield* sim.count(MINT), 1)
      // the window (default 30 s) is over: GitHub is asked again, and now it says yes
      yield* sim.setSuspended(1, false)
      yield* TestClock.adjust("2 seconds")
      yield* cache.get(1)
      assert.strictEqual(yield* sim.count(MINT), 2)
    }))

  it.scoped("a gone installation (404) is remembered too; failedMintWindow 0 remembers nothing", () =>
    Effect.gen(function*() {
      const remembered = yield* setup()
      for (let i = 0; i < 5; i++) {
        assert.strictEqual((yield* Effect.flip(remembered.cache.get(404)))._tag, "GithubNotFound")
      }
      assert.strictEqual(yield* remembered.sim.count(MINT), 1)
      const forgetful = yield* setup({ failedMintWindow: 0 })
      for (let i = 0; i < 3; i++) {
        assert.strictEqual((yield* Effect.flip(forgetful.cache.get(404)))._tag, "GithubNotFound")
      }
      assert.strictEqual(yield* forgetful.sim.count(MINT), 3)
    }))

  it.scoped("a failure that may pass (a 5xx) is not remembered", () =>
    Effect.gen(function*() {
      const { cache, sim } = yield* setup()
      yield* sim.fault("POST /app/installations/{installation_id}/access_tokens", Fault.status(422), { times: 1 })
      assert.strictEqual((yield* Effect.flip(cache.get(1)))._tag, "GithubValidationFailed")
      yield* cache.get(1)
      assert.strictEqual(yield* sim.count(MINT), 2)
    }))

  it.scoped("token lifetimes are read on GitHub's clock: with the host 15 minutes slow, no expired token is served", () =>
    Effect.gen(function*() {
      // GitHub 15 minutes ahead: `expires_at` reads 75 minutes on our clock, but the token ends at our minute 60,
      // so it is good until our minute 55 (the local reading would serve it until 70, 10 minutes past its end)
      const { cache, sim } = yield* setup({ refreshMargin: "5 minutes" }, { skew: "15 minutes" })
      const first = yield* cache.get(1)
      yield* TestClock.adjust("54 minutes")
      assert.isTrue(same((yield* cache.get(1)).token, first.token))
      yield* TestClock.adjust("2 minutes")
      const second = yield* cache.get(1)
      assert.isFalse(same(second.token, first.token))
      yield* TestClock.adjust("5 minutes")
      assert.isFalse((yield* sim.activeTokens).some((t) => same(t.token, first.token)))
      // (the first POST's JWT, signed before GitHub's clock was known, was refused and re-signed: count tokens)
      assert.strictEqual((yield* sim.tokens).length, 2)
      // and the one served is active at GitHub
      assert.isTrue((yield* sim.activeTokens).some((t) => same(t.token, second.token)))
    }))

  it.scoped("the cache is bounded: the least recently used token goes first", () =>
    Effect.gen(function*() {
      const { cache, sim } = yield* setup({ capacity: 2 })
      yield* cache.get(1)
      yield* cache.get(2)
      yield* cache.get(3)
      yield* cache.get(3)
      assert.strictEqual(yield* sim.count(MINT), 3)
      yield* cache.get(1)
      assert.strictEqual(yield* sim.count(MINT), 4)
    }))

  it.scoped("proactive refresh renews tokens in the background so readers never wait", () =>
    Effect.gen(function*() {
      const { cache, sim } = yield* setup({ proactiveRefresh: "1 minute", refreshMargin: "5 minutes" })
      const refreshesBefore = (yield* Metric.value(InstallationTokens.metrics.refreshes)).count
      const first = yield* cache.get(1)
      // read again after its mint: a token in use
      yield* cache.get(1)
      // Good until minute 55; the pass at minute 53 sees it within two intervals and renews it. The clock stops
      // there: moved on while the renewal's reply is still on its way, it would fire that request's 15 s timeout
      // (a retry, a third POST), which a real clock never does in that time.
      yield* TestClock.adjust("53 minutes")
      // The background mint's reply is read on the event loop: let it land before looking.
      yield* settle(Metric.value(InstallationTokens.metrics.refreshes), (state) => state.count >= refreshesBefore + 1)
      assert.strictEqual(yield* sim.count(MINT), 2)
      const renewed = yield* cache.get(1)
      assert.isFalse(same(renewed.token, first.token))
      assert.strictEqual(yield* sim.count(MINT), 2)
      assert.strictEqual((yield* Metric.value(InstallationTokens.metrics.refreshes)).count, refreshesBefore + 1)
    }))

  it.scoped("a failed background refresh keeps the valid token, and the next pass tries again", () =>
    Effect.gen(function*() {
      const { cache, sim } = yield* setup({ proactiveRefresh: "1 minute", refreshMargin: "5 minutes" })
      const first = yield* cache.get(1)
      yield* cache.get(1)
      yield* sim.fault(MINT, Fault.status(403, { message: "GitHub is having a bad day" }), { times: 1 })
      // good until minute 55: the pass at minute 53 tries (and is refused), the one at minute 54 renews
      yield* TestClock.adjust("53 minutes")
      yield* settle(sim.count(MINT), (n) => n >= 2)
      yield* settle(Effect.void, () => false)
      const during = yield* cache.get(1)
      assert.isTrue(same(during.token, first.token))
      assert.strictEqual(yield* sim.count(MINT), 2)
      yield* TestClock.adjust("1 minute")
      yield* settle(sim.count(MINT), (n) => n >= 3)
      yield* settle(Effect.void, () => false)
      const renewed = yield* cache.get(1)
      assert.isFalse(same(renewed.token, first.token))
      assert.strictEqual(yield* sim.count(MINT), 3)
    }))

  it.scoped("proactive refresh renews only tokens read since their last mint: one token asked for once is one POST", () =>
    Effect.gen(function*() {
      const { cache, sim } = yield* setup({ proactiveRefresh: true })
      yield* cache.get(1)
      for (let step = 0; step < 30; step++) {
        yield* TestClock.adjust("10 minutes")
        yield* settle(Effect.void, () => false)
      }
      assert.strictEqual(yield* sim.count(MINT), 1)
    }))

  it.scoped("metrics count hits, misses and mints", () =>
    Effect.gen(function*() {
      const { cache } = yield* setup()
      const before = yield* Effect.all([
        Metric.value(InstallationTokens.metrics.hits),
        Metric.value(InstallationTokens.metrics.misses),
        Metric.value(InstallationTokens.metrics.mints)
      ])
      yield* cache.get(5)
      yield* cache.get(5)
      yield* cache.get(5)
      const after = yield* Effect.all([
        Metric.value(InstallationTokens.metrics.hits),
        Metric.value(InstallationTokens.metrics.misses),
        Metric.value(InstallationTokens.metrics.mints)
      ])
      assert.strictEqual(after[0].count - before[0].count, 2)
      assert.strictEqual(after[1].count - before[1].count, 1)
      assert.strictEqual(after[2].count - before[2].count, 1)
      const inFlight = yield* Metric.value(InstallationTokens.metrics.inFlight)
      assert.strictEqual(inFlight.value, 0)
    }))

  describe("installation requesters", () => {
    it.scoped("act as the installation with a cached token", () =>
      Effect.gen(function*() {
        const { cache, sim } = yield* setup()
        const requester = cache.requester(1)
        const first = yield* requester.requestJson({ method: "GET", path: "/installation/repositories" })
        const second = yield* requester.requestJson({ method: "GET", path: "/installation/repositories" })
        assert.strictEqual(first.status, 200)
        assert.strictEqual(second.status, 200)
        assert.strictEqual(yield* sim.count(MINT), 1)
        const requests = yield* sim.requests
        assert.isTrue(requests.some((r) => r.headers.authorization === "token <redacted>"))
      }))

    it.scoped("replication lag: a fresh token refused for its first seconds is retried within the window", () =>
      Effect.gen(function*() {
        const { cache, sim } = yield* setup()
        yield* sim.fault("GET /installation/repositories", Fault.replicationLag("2 seconds"), { times: Infinity })
        const fiber = yield* Effect.fork(
          cache.requester(1).requestJson({ method: "GET", path: "/installation/repositories" })
        )
        // the mint's reply is read on the event loop: the first GET goes out before the clock moves
        yield* settle(sim.count("GET /installation/repositories"), (n) => n >= 1)
        yield* TestClock.adjust("3 seconds")
        const reply = yield* Fiber.join(fiber)
        assert.strictEqual(reply.status, 200)
        assert.strictEqual(yield* sim.count(MINT), 1)
        assert.isAtLeast(yield* sim.count("GET /installation/repositories"), 3)
      }))

    it.scoped("replication lag longer than the window fails, naming the cause", () =>
      Effect.gen(function*() {
        const { cache, sim } = yield* setup({ replicationLagWindow: "2 seconds" })
        yield* sim.fault("GET /installation/repositories", Fault.replicationLag("1 hour"), { times: Infinity })
        const fiber = yield* Effect.fork(
          Effect.flip(cache.requester(1).requestJson({ method: "GET", path: "/installation/repositories" }))
        )
        for (let second = 0; second < 10; second++) {
          yield* TestClock.adjust("1 second")
          // the simulator's replies are read on the event loop: let each land before the clock moves on
          yield* settle(Effect.void, () => false)
        }
        const error = yield* Fiber.join(fiber)
        assert.strictEqual(error._tag, "GithubUnauthorized")
        assert.include(error.message, "replicat")
      }))

    it.scoped("a stale cached token (revoked elsewhere) is replaced once", () =>
      Effect.gen(function*() {
        const { cache, requester, sim } = yield* setup()
        const stale = yield* cache.get(1)
        // Revoked behind the cache's back, as another process would.
        yield* requester.withCredentials({
          identity: "installation:1",
          authorization: () => Effect.succeed(Redacted.make(`token ${Redacted.value(stale.token)}`)),
          shouldRefresh: () => false
        }).requestJson({ method: "DELETE", path: "/installation/token" })
        yield* TestClock.adjust("1 minute") // older than the replication-lag window
        const reply = yield* cache.requester(1).requestJson({ method: "GET", path: "/installation/repositories" })
        assert.strictEqual(reply.status, 200)
        assert.strictEqual(yield* sim.count(MINT), 2)
        assert.isFalse(same((yield* cache.get(1)).token, stale.token))
      }))
  })

  describe("revocation", () => {
    it.scoped("revoke deletes the token at GitHub and drops it from the cache", () =>
      Effect.gen(function*() {
        const { cache, sim } = yield* setup()
        const token = yield* cache.get(1)
        yield* cache.revoke(token.token)
        assert.strictEqual(yield* sim.count("DELETE /installation/token"), 1)
        const issued = yield* sim.tokens
        assert.isTrue(issued.find((t) => same(t.token, token.token))!.revoked)
        const next = yield* cache.get(1)
        assert.isFalse(same(next.token, token.token))
      }))

    it.scoped("a failed revoke still drops the token from the cache, and returns the error", () =>
      Effect.gen(function*() {
        const { cache, sim } = yield* setup()
        const token = yield* cache.get(1)
        yield* sim.fault("DELETE /installation/token", Fault.status(403), { times: 1 })
        const error = yield* Effect.flip(cache.revoke(token.token))
        assert.strictEqual(error._tag, "GithubForbidden")
        const next = yield* cache.get(1)
        assert.isFalse(same(next.token, token.token))
        assert.strictEqual(yield* sim.count(MINT), 2)
      }))

    it.scoped("a scoped token is revoked when its scope closes", () =>
      Effect.gen(function*() {
        const { cache, sim } = yield* setup()
        const scope = yield* Scope.make()
        const token = yield* Scope.extend(cache.scoped(1, { permissions: { contents: "read" } }), scope)
        assert.strictEqual((yield* sim.activeTokens).length, 1)
        yield* Scope.close(scope, Exit.void)
        assert.strictEqual((yield* sim.activeTokens).length, 0)
        assert.isTrue((yield* sim.tokens).find((t) => same(t.token, token.token))!.revoked)
      }))
  })

  it.scoped("bad scopes fail before any request", () =>
    Effect.gen(function*() {
      const { cache, sim } = yield* setup()
      for (
        const attempt of [
          cache.get(0),
          cache.get(1, { permissions: { "pull-requests": "write" } }),
          cache.get(1, { repositoryIds: [0] }),
          cache.get(1, { repositoryIds: Array.from({ length: 501 }, (_, i) => i + 1) }),
          cache.mint(Number.NaN)
        ]
      ) {
        assert.strictEqual((yield* Effect.flip(attempt))._tag, "InvalidArgument")
      }
      assert.strictEqual(yield* sim.count("*"), 0)
    }))

  it.scoped("bad options fail the layer", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(setup({ capacity: 0 }))
      assert.isTrue(Exit.isFailure(exit))
    }))
})

describe("InstallationTokens pacing (issue 12, fault 1)", () => {
  it.scoped("mints are authentication traffic: 40 mints under PyGithub's default spacing take 10 s, not 40", () =>
    Effect.gen(function*() {
      const sim = yield* GithubSimulator.make({ installationCount: 40 })
      const context = yield* Layer.build(
        Integration.layerApp({
          appId: sim.app.id,
          privateKey: sim.app.privateKey,
          baseUrl: sim.baseUrl,
          secondsBetweenRequests: 0.25,
          secondsBetweenWrites: 1
        }).pipe(Layer.provide(sim.layer))
      )
      const cache = yield* Effect.provide(InstallationTokens.InstallationTokens, context)
      const all = yield* Effect.fork(
        Effect.all(Array.from({ length: 40 }, (_, i) => cache.get(i + 1)), { concurrency: "unbounded" })
      )
      // 40 request starts 250 ms apart: the last at 9.75 s. With the 1 s write spacing it would be at 39 s.
      for (let step = 0; step < 40; step++) {
        yield* settle(Effect.void, () => true)
        yield* TestClock.adjust("250 millis")
      }
      const minted = yield* settle(sim.count(MINT), (n) => n >= 40)
      assert.strictEqual(minted, 40)
      const tokens = yield* Fiber.join(all)
      assert.strictEqual(new Set(tokens.map((token) => Redacted.value(token.token))).size, 40)
    }))
})
