import { GithubError, Integration } from "@effect-github/app"
import { NodeHttpTransport } from "@effect-github/node"
import { Fault, GithubSimulator } from "@effect-github/testing"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Layer, Redacted, Stream, TestClock } from "effect"

// Over loopback to the simulator, through the Node transport users get.
const connect = (options: GithubSimulator.Options = {}, baseUrl?: (url: string) => string) =>
  Effect.gen(function*() {
    const sim = yield* GithubSimulator.make({
      installations: [
        { account: "octo-org", repositories: ["hello-world", "docs", "api"] },
        { account: "octocat", type: "User", repositories: ["dotfiles"] },
        { account: "octo-enterprise", type: "Enterprise", repositories: 1 },
        { account: "sleepy-org", suspended: true, repositories: ["zzz"] }
      ],
      installationCount: 0,
      ...options
    })
    const { url } = yield* sim.server
    const context = yield* Layer.build(
      Integration.layerApp({
        appId: sim.app.id,
        privateKey: sim.app.privateKey,
        baseUrl: baseUrl === undefined ? url : baseUrl(url),
        secondsBetweenRequests: 0,
        secondsBetweenWrites: 0
      }).pipe(Layer.provide(NodeHttpTransport.layer()))
    )
    const github = yield* Effect.provide(Integration.Integration, context)
    return { sim, github, url }
  })

const mintRoute = "POST /app/installations/{installation_id}/access_tokens"

describe("Integration: not found names what was not found", () => {
  it.scopedLive("the installation id, organization, repository, user and enterprise", () =>
    Effect.gen(function*() {
      const { github } = yield* connect()
      const cases: Array<[Effect.Effect<unknown, Integration.RequestError>, string, string]> = [
        [Effect.flatMap(github.getAppInstallation(99), (ref) => ref.get), "installation 99", "/app/installations/"],
        [
          Effect.flatMap(github.withLazy(true).getAppInstallation(98), (ref) => ref.get),
          "installation 98",
          "/app/installations/"
        ],
        [github.getAccessToken(97), "installation 97", "/access_tokens"],
        [github.getOrgInstallation("nobody-here"), "the installation on organization nobody-here", "/orgs/"],
        [
          github.getRepoInstallation("octo-org", "missing"),
          "the installation on repository octo-org/missing",
          "/repos/"
        ],
        [github.getUserInstallation("ghost"), "the installation on user ghost", "/users/"],
        [github.getEnterpriseInstallation("acme"), "the installation on enterprise acme", "/enterprises/"]
      ]
      for (const [attempt, subject, route] of cases) {
        const error = yield* Effect.flip(attempt)
        assert.instanceOf(error, GithubError.GithubNotFound)
        if (error._tag !== "GithubNotFound") continue
        assert.strictEqual(error.subject, subject)
        assert.strictEqual(error.status, 404)
        assert.include(error.route, route)
        assert.isString(error.requestId) // GitHub's fields are kept
        assert.include(error.message, `Not found (404): ${subject} (`)
      }
    }))

  it.scopedLive("a JSON 404 for /app on a base URL that is not the API root gets a GHES hint", () =>
    Effect.gen(function*() {
      // A GHES-like simulator under /api/v3, addressed as if the API were under /github
      const { github } = yield* connect({ pathPrefix: "/api/v3" }, (url) => url.replace(/\/api\/v3$/, "/github"))
      const error = yield* Effect.flip(github.getApp())
      assert.strictEqual(error._tag, "GithubNotFound")
      if (error._tag !== "GithubNotFound") return
      const origin = new URL(error.hint === undefined ? "http://x" : error.hint.match(/http\S+\/api\/v3/)![0]).origin
      assert.include(error.hint, "for GitHub Enterprise Server the base URL is")
      assert.include(error.message, `${origin}/api/v3`)
      assert.notInclude(error.message, "The app may not be installed there")
    }))

  it.scopedLive("no GHES hint where the base URL is an API root or for other routes", () =>
    Effect.gen(function*() {
      const { github, sim } = yield* connect()
      yield* sim.fault("GET /app", [Fault.status(404)])
      const error = yield* Effect.flip(github.getApp())
      assert.strictEqual(error._tag, "GithubNotFound")
      if (error._tag === "GithubNotFound") assert.isUndefined(error.hint)
      const ghes = yield* connect({ pathPrefix: "/api/v3" }, (url) => url.replace(/\/api\/v3$/, "/github"))
      const other = yield* Effect.flip(ghes.github.getOrgInstallation("octo-org"))
      assert.strictEqual(other._tag, "GithubNotFound")
      if (other._tag === "GithubNotFound") assert.isUndefined(other.hint)
    }))
})

describe("Integration.eachInstallation and eachRepository", () => {
  it.scopedLive("eachInstallation: every installation that is not suspended, in order, each with its token", () =>
    Effect.gen(function*() {
      const { github, sim } = yield* connect()
      const sessions = Chunk.toReadonlyArray(
        yield* Stream.runCollect(github.eachInstallation({ perPage: 2, concurrency: 2 }))
      )
      assert.deepStrictEqual(sessions.map((session) => session.installation.id), [1, 2, 3])
      const issued = yield* sim.tokens
      for (const session of sessions) {
        const token = issued.find((t) => Redacted.value(t.token) === Redacted.value(session.token.token))
        assert.strictEqual(token?.installationId, session.installation.id)
      }
      assert.strictEqual(yield* sim.count(mintRoute), 3)
      // A second pass takes the tokens from the cache.
      yield* Stream.runDrain(github.eachInstallation())
      assert.strictEqual(yield* sim.count(mintRoute), 3)
      // The requester acts as the installation.
      const raw = yield* sessions[0]!.requester.requestJson({ method: "GET", path: "/installation/repositories" })
      assert.strictEqual((raw.body as { total_count: number }).total_count, 3)
    }))

  it.scoped("eachInstallation mints at most `concurrency` tokens at once (TestClock holds every mint)", () =>
    Effect.gen(function*() {
      const sim = yield* GithubSimulator.make({ installations: [], installationCount: 7 })
      const context = yield* Layer.build(
        Integration.layerApp({
          appId: sim.app.id,
          privateKey: sim.app.privateKey,
          baseUrl: sim.baseUrl,
          secondsBetweenRequests: 0,
          secondsBetweenWrites: 0
        }).pipe(Layer.provide(sim.layer))
      )
      const github = yield* Effect.provide(Integration.Integration, context)
      // Each mint waits 10 s of simulated time at the simulator: the mints that arrive meanwhile are in flight.
      yield* sim.fault(mintRoute, Fault.delay("10 seconds"), { times: 7 })
      const fiber = yield* Effect.fork(Stream.runCollect(github.eachInstallation({ concurrency: 3 })))
      // Signing is real async work: let the event loop turn (no time is measured) until the round's mints are in,
      // then some more, so a fourth mint that breaks the bound would have arrived too.
      const turn = Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 5)))
      const settle = (expected: number) =>
        Effect.gen(function*() {
          for (let i = 0; i < 1000 && (yield* sim.count(mintRoute)) < expected; i++) yield* turn
          yield* Effect.repeatN(turn, 10)
          return yield* sim.count(mintRoute)
        })
      const arrived: Array<number> = []
      for (const expected of [3, 6, 7]) {
        arrived.push(yield* settle(expected))
        yield* TestClock.adjust("10 seconds")
      }
      const all = yield* Fiber.join(fiber)
      assert.deepStrictEqual(arrived, [3, 6, 7])
      assert.deepStrictEqual(Chunk.toReadonlyArray(all).map((s) => s.installation.id), [1, 2, 3, 4, 5, 6, 7])
    }))

  it.scopedLive("eachRepository: every repository with its installation, listed with that installation's token", () =>
    Effect.gen(function*() {
      const { github, sim } = yield* connect()
      const all = Chunk.toReadonlyArray(yield* Stream.runCollect(github.eachRepository({ perPage: 2 })))
      const names = all.map(({ installation, repository }) => `${installation.id}:${repository.full_name}`).sort()
      assert.deepStrictEqual(names, [
        "1:octo-org/api",
        "1:octo-org/docs",
        "1:octo-org/hello-world",
        "2:octocat/dotfiles",
        "3:octo-enterprise/repo-1"
      ])
      // 2 pages for octo-org, 1 each for the others (the route takes only installation tokens); the suspended
      // installation is not asked
      assert.strictEqual(yield* sim.count("GET /installation/repositories"), 4)
      assert.strictEqual(yield* sim.count(mintRoute), 3)
    }))

  it.scopedLive("a token scope narrows each installation's token and listing", () =>
    Effect.gen(function*() {
      const { github } = yield* connect()
      const all = yield* Stream.runCollect(
        github.eachRepository({ scope: { permissions: { metadata: "read" } } })
      )
      assert.strictEqual(Chunk.size(all), 5)
      const first = yield* Stream.runHead(github.eachInstallation({ scope: { permissions: { metadata: "read" } } }))
      assert.deepStrictEqual(first._tag === "Some" ? first.value.token.permissions : undefined, { metadata: "read" })
    }))

  it.scopedLive("bad options fail with InvalidArgument before any request", () =>
    Effect.gen(function*() {
      const { github, sim } = yield* connect()
      for (
        const stream of [
          github.eachInstallation({ concurrency: 0 }),
          github.eachInstallation({ concurrency: 1.5 }),
          github.eachRepository({ concurrency: "2" as unknown as number }),
          github.eachRepository({ perPage: 0 })
        ]
      ) {
        const error = yield* Effect.flip(Stream.runDrain(stream as Stream.Stream<unknown, Integration.RequestError>))
        assert.strictEqual(error._tag, "InvalidArgument")
      }
      assert.strictEqual(yield* sim.count("*"), 0)
    }))
})

describe("Integration: suspend, unsuspend and delete an installation", () => {
  it.scopedLive("suspend stops tokens, unsuspend restores them", () =>
    Effect.gen(function*() {
      const { github, sim } = yield* connect()
      yield* github.suspendInstallation(2)
      const installation = yield* Effect.flatMap(github.getAppInstallation(2), (ref) => ref.get)
      assert.instanceOf(installation.suspended_at, Date)
      const refused = yield* Effect.flip(github.getAccessToken(2))
      assert.strictEqual(refused._tag, "GithubForbidden")
      yield* github.unsuspendInstallation(2)
      const token = yield* github.getAccessToken(2)
      assert.isTrue(Redacted.value(token.token).startsWith("ghs_"))
      assert.strictEqual(yield* sim.count("PUT /app/installations/{installation_id}/suspended"), 1)
      assert.strictEqual(yield* sim.count("DELETE /app/installations/{installation_id}/suspended"), 1)
      // eachInstallation now includes it, and still skips sleepy-org
      const ids = Chunk.toReadonlyArray(yield* Stream.runCollect(github.eachInstallation())).map((s) =>
        s.installation.id
      )
      assert.deepStrictEqual(ids, [1, 2, 3])
    }))

  it.scopedLive("delete uninstalls: the installation is gone and its cached token is not used again", () =>
    Effect.gen(function*() {
      const { github, sim } = yield* connect()
      yield* github.getAccessToken(3)
      yield* github.deleteInstallation(3)
      const gone = yield* Effect.flip(Effect.flatMap(github.getAppInstallation(3), (ref) => ref.get))
      assert.strictEqual(gone._tag, "GithubNotFound")
      const listed = yield* Stream.runCollect(github.getInstallations())
      assert.deepStrictEqual(Chunk.toReadonlyArray(listed).map((i) => i.id), [1, 2, 4])
      // not from the cache: GitHub is asked, and says the installation is not there
      const token = yield* Effect.flip(github.getAccessToken(3))
      assert.strictEqual(token._tag, "GithubNotFound")
      assert.strictEqual(yield* sim.count(mintRoute), 2)
      assert.strictEqual(yield* sim.count("DELETE /app/installations/{installation_id}"), 1)
    }))

  it.scopedLive("unknown ids give a not found that names the id; bad ids fail before any request", () =>
    Effect.gen(function*() {
      const { github, sim } = yield* connect()
      for (
        const attempt of [
          github.suspendInstallation(50),
          github.unsuspendInstallation(51),
          github.deleteInstallation(52)
        ]
      ) {
        const error = yield* Effect.flip(attempt)
        assert.strictEqual(error._tag, "GithubNotFound")
        assert.match(error.message, /^Not found \(404\): installation 5[012] \(/)
      }
      const before = yield* sim.count("*")
      for (
        const attempt of [
          github.suspendInstallation(0),
          github.unsuspendInstallation(-1),
          github.deleteInstallation(Number.NaN),
          github.deleteInstallation(undefined as unknown as number)
        ]
      ) {
        assert.strictEqual((yield* Effect.flip(attempt))._tag, "InvalidArgument")
      }
      assert.strictEqual(yield* sim.count("*"), before)
    }))
})
