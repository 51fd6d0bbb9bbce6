import { Account, GithubApp, Installation, Integration } from "@effect-github/app"
import { NodeHttpTransport } from "@effect-github/node"
import { Fault, GithubSimulator } from "@effect-github/testing"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Layer, Redacted, Schedule, Scope, Stream } from "effect"
import * as Crypto from "node:crypto"

// Every test talks HTTP over loopback to a simulator server, through the Node transport users get.
const connect = (options: GithubSimulator.Options = {}, appOptions: Partial<Integration.AppOptions> = {}) =>
  Effect.gen(function*() {
    const sim = yield* GithubSimulator.make({
      installations: [
        { account: "octo-org", repositories: ["hello-world", "docs", "api"] },
        { account: "octocat", type: "User", repositories: ["dotfiles"] },
        { account: "octo-enterprise", type: "Enterprise", repositories: 1 },
        { account: "sleepy-org", suspended: true }
      ],
      installationCount: 0,
      ...options
    })
    const { url } = yield* sim.server
    const scope = yield* Effect.scope
    const context = yield* Layer.buildWithScope(
      Integration.layerApp({
        appId: sim.app.id,
        privateKey: sim.app.privateKey,
        baseUrl: url,
        secondsBetweenRequests: 0,
        secondsBetweenWrites: 0,
        ...appOptions
      }).pipe(Layer.provide(NodeHttpTransport.layer())),
      scope
    )
    const github = yield* Effect.provide(Integration.Integration, context)
    return { sim, github, url }
  })

describe("Integration", () => {
  it.scopedLive("getApp decodes the app", () =>
    Effect.gen(function*() {
      const { github, sim } = yield* connect()
      const app = yield* github.getApp()
      assert.instanceOf(app, GithubApp.GithubApp)
      assert.strictEqual(app.id, sim.app.id)
      assert.strictEqual(app.slug, sim.app.slug)
      assert.strictEqual(yield* sim.count("GET /app"), 1)
    }))

  it.scopedLive("createJwt signs a JWT GitHub accepts as the app", () =>
    Effect.gen(function*() {
      const { github, sim } = yield* connect()
      const jwt = yield* github.createJwt("2 minutes")
      const [, payload] = Redacted.value(jwt).split(".")
      const claims = JSON.parse(Buffer.from(payload!, "base64url").toString())
      assert.strictEqual(claims.iss, String(sim.app.id))
      assert.strictEqual(claims.exp - claims.iat, 180) // 120 s + the 60 s back-dated iat
      assert.notInclude(String(jwt), Redacted.value(jwt))
    }))

  it.scopedLive("getInstallations streams 1,000 installations over 10 pages", () =>
    Effect.gen(function*() {
      const { github, sim } = yield* connect({ installations: [], installationCount: 1000 })
      const all = yield* Stream.runCollect(github.getInstallations({ perPage: 100 }))
      const ids = Chunk.toReadonlyArray(all).map((installation) => installation.id)
      assert.strictEqual(ids.length, 1000)
      assert.strictEqual(new Set(ids).size, 1000)
      assert.deepStrictEqual(ids.slice(0, 3), [1, 2, 3])
      assert.strictEqual(yield* sim.count("GET /app/installations"), 10)
      const requests = yield* sim.requests
      assert.isTrue(
        requests.every((request) => request.query.per_page === "100" || request.route !== "GET /app/installations")
      )
    }))

  it.scopedLive("getInstallations passes since and outdated", () =>
    Effect.gen(function*() {
      const { github, sim } = yield* connect()
      const since = new Date("2020-01-01T00:00:00Z")
      yield* Stream.runDrain(github.getInstallations({ since, outdated: "true" }))
      const [request] = yield* sim.requests
      assert.strictEqual(request!.query.since, since.toISOString())
      assert.strictEqual(request!.query.outdated, "true")
    }))

  it.scopedLive("lookups by org, repo, user and enterprise", () =>
    Effect.gen(function*() {
      const { github } = yield* connect()
      const org = yield* github.getOrgInstallation("octo-org")
      const repo = yield* github.getRepoInstallation("octo-org", "docs")
      const user = yield* github.getUserInstallation("octocat")
      const enterprise = yield* github.getEnterpriseInstallation("octo-enterprise")

      const deprecated = yield* github.getInstallation("octo-org", "hello-world")
      assert.instanceOf(org, Installation.Installation)
      assert.strictEqual(org.id, 1)
      assert.strictEqual(repo.id, 1)
      assert.strictEqual(deprecated.id, 1)
      assert.strictEqual(user.id, 2)
      assert.strictEqual(enterprise.id, 3)
      assert.strictEqual(Account.name(user.account!), "octocat")
      assert.strictEqual(Account.name(enterprise.account!), "octo-enterprise")
    }))

  it.scopedLive("a token narrowed to one repository and one permission lists only that repository", () =>
    Effect.gen(function*() {
      const { github, sim } = yield* connect()
      const token = yield* github.getAccessToken(1, { repositories: ["docs"], permissions: { contents: "read" } })
      // GitHub adds metadata:read to every token.
      assert.deepStrictEqual(token.permissions, { contents: "read", metadata: "read" })
      assert.strictEqual(token.repository_selection, "selected")
      const ref = yield* github.installation(1)
      const repositories = yield* Stream.runCollect(
        ref.repositories({ repositories: ["docs"], permissions: { contents: "read" } })
      )
      assert.deepStrictEqual(Chunk.toReadonlyArray(repositories).map((repository) => repository.name), ["docs"])
      // The listing reused the cached token: one mint in all.
      assert.strictEqual(yield* sim.count("POST /app/installations/{installation_id}/access_tokens"), 1)
      const [minted] = yield* sim.requests.pipe(
        Effect.map((requests) => requests.filter((request) => request.method === "POST"))
      )
      assert.deepStrictEqual(minted!.body, { permissions: { contents: "read" }, repositories: ["docs"] })
    }))

  it.scopedLive("getAccessToken accepts repository ids", () =>
    Effect.gen(function*() {
      const { github, sim } = yield* connect()
      const repository = sim.installations[0]!.repositories[2]!
      const token = yield* github.getAccessToken(1, { repositoryIds: [repository.id] })
      assert.deepStrictEqual(token.repositories?.map((r) => r.name), [repository.name])
    }))

  it.scopedLive("eager getAppInstallation fetches at once; lazy does not until asked, then once", () =>
    Effect.gen(function*() {
      const { github, sim } = yield* connect()
      const eager = yield* github.getAppInstallation(1)
      assert.strictEqual(yield* sim.count("GET /app/installations/{installation_id}"), 1)
      assert.strictEqual((yield* eager.get).id, 1)
      assert.strictEqual(yield* sim.count("GET /app/installations/{installation_id}"), 1)

      const lazy = github.withLazy(true)
      assert.isTrue(lazy.lazy)
      assert.isFalse(github.lazy, "withLazy leaves the original as it was")
      const ref = yield* lazy.getAppInstallation(2)
      assert.strictEqual(ref.id, 2)
      assert.strictEqual(yield* sim.count("GET /app/installations/{installation_id}"), 1)
      const fetched = yield* Effect.all(Array.from({ length: 10 }, () => ref.get), { concurrency: "unbounded" })
      assert.isTrue(fetched.every((installation) => installation.id === 2))
      assert.strictEqual(yield* sim.count("GET /app/installations/{installation_id}"), 2)

      // A lazy reference to a missing installation fails only when fetched.
      const missing = yield* lazy.getAppInstallation(999)
      const error = yield* Effect.flip(missing.get)
      assert.strictEqual(error._tag, "GithubNotFound")
    }))

  it.scopedLive("a lazy reference remembers its installation, not a failure", () =>
    Effect.gen(function*() {
      const { github, sim } = yield* connect({}, { retry: false })
      const ref = yield* github.installation(1)
      yield* sim.fault("GET /app/installations/{installation_id}", Fault.status(502))
      const failed = yield* Effect.flip(ref.get)
      assert.strictEqual(failed._tag, "GithubServerError")
      assert.strictEqual((yield* ref.get).id, 1)
      assert.strictEqual((yield* ref.get).id, 1)
      assert.strictEqual(yield* sim.count("GET /app/installations/{installation_id}"), 2)
    }))

  it.scopedLive("an installation reference acts as the installation", () =>
    Effect.gen(function*() {
      const { github, sim } = yield* connect()
      const ref = yield* github.installation(2)
      const token = yield* ref.accessToken()
      assert.isTrue(token.expires_at.getTime() > Date.now())
      const raw = yield* ref.requester().requestJson({ method: "GET", path: "/installation/repositories" })
      assert.strictEqual(raw.status, 200)
      assert.strictEqual((raw.body as { total_count: number }).total_count, 1)
      assert.strictEqual(yield* sim.count("POST /app/installations/{installation_id}/access_tokens"), 1)
      assert.strictEqual(yield* sim.count("GET /app/installations/{installation_id}"), 0)
    }))

  it.scopedLive("requester acts as the app", () =>
    Effect.gen(function*() {
      const { github } = yield* connect()
      const raw = yield* github.requester.requestJson({ method: "GET", path: "/app" })
      assert.strictEqual(raw.status, 200)
      assert.isString(raw.headers["x-github-request-id"])
    }))

  describe("errors", () => {
    it.scopedLive("404 for an account without the app", () =>
      Effect.gen(function*() {
        const { github } = yield* connect()
        const error = yield* Effect.flip(github.getOrgInstallation("nobody-here"))
        assert.strictEqual(error._tag, "GithubNotFound")
        if (error._tag === "GithubNotFound") {
          assert.strictEqual(error.route, "/orgs/{org}/installation")
          assert.strictEqual(error.status, 404)
          assert.isString(error.requestId)
        }
      }))

    it.scopedLive("403 for a suspended installation's token", () =>
      Effect.gen(function*() {
        const { github } = yield* connect()
        const error = yield* Effect.flip(github.getAccessToken(4))
        assert.strictEqual(error._tag, "GithubForbidden")
        assert.include(error.message, "suspended")
      }))

    it.scopedLive("422 for a permission or repository the installation lacks", () =>
      Effect.gen(function*() {
        const { github, sim } = yield* connect()
        const permission = yield* Effect.flip(github.getAccessToken(1, { permissions: { administration: "admin" } }))
        assert.strictEqual(permission._tag, "GithubValidationFailed")
        const repository = yield* Effect.flip(github.getAccessToken(1, { repositories: ["not-there"] }))
        assert.strictEqual(repository._tag, "GithubValidationFailed")
        // Failed mints are not cached: the next call asks again.
        yield* Effect.flip(github.getAccessToken(1, { repositories: ["not-there"] }))
        assert.strictEqual(yield* sim.count("POST /app/installations/{installation_id}/access_tokens"), 3)
      }))

    it.scopedLive("401 Bad credentials for a key that is not the app's", () =>
      Effect.gen(function*() {
        const { privateKey } = Crypto.generateKeyPairSync("rsa", {
          modulusLength: 2048,
          privateKeyEncoding: { type: "pkcs1", format: "pem" },
          publicKeyEncoding: { type: "spki", format: "pem" }
        })
        const { github } = yield* connect({}, { privateKey: Redacted.make(privateKey) })
        const error = yield* Effect.flip(github.getApp())
        assert.strictEqual(error._tag, "GithubUnauthorized")
        if (error._tag === "GithubUnauthorized") assert.strictEqual(error.reason, "BadCredentials")
      }))

    it.scopedLive("bad input fails before any request", () =>
      Effect.gen(function*() {
        const { github, sim } = yield* connect()
        const attempts = [
          github.getOrgInstallation("a/b"),
          github.getOrgInstallation(".."),
          github.getRepoInstallation("octo-org", "x?y"),
          github.getRepoInstallation("octo-org", "x#y"),
          github.getUserInstallation("%2F"),
          github.getEnterpriseInstallation(""),
          Effect.flatMap(github.getAppInstallation(0), (ref) => ref.get),
          Effect.flatMap(github.getAppInstallation(1.5), (ref) => ref.get),
          github.getAccessToken(-1),
          github.getAccessToken(1, { permissions: { "Contents": "read" } }),
          github.getAccessToken(1, { permissions: { contents: "owner" as "read" } }),
          github.getAccessToken(1, { repositories: Array.from({ length: 501 }, (_, i) => `repo-${i}`) }),
          github.getAccessToken(1, { repositories: ["octo-org/docs"] }),
          Stream.runDrain(github.getInstallations({ perPage: 101 }))
        ]
        for (const attempt of attempts) {
          const error = yield* Effect.flip(attempt)
          assert.strictEqual(error._tag, "InvalidArgument", error.message)
        }
        assert.strictEqual(yield* sim.count("*"), 0)
      }))
  })

  it.scopedLive("a GHES-style base URL with the /api/v3 prefix", () =>
    Effect.gen(function*() {
      const { github, url } = yield* connect({ pathPrefix: "/api/v3" })
      assert.isTrue(url.endsWith("/api/v3"))
      const app = yield* github.getApp()
      const all = yield* Stream.runCollect(github.getInstallations({ perPage: 2 }))
      const token = yield* github.getAccessToken(1)
      assert.isNumber(app.id)
      assert.strictEqual(Chunk.size(all), 4)
      assert.isTrue(Redacted.value(token.token).startsWith("ghs_"))
    }))

  it.scopedLive("survives an injected 502 and a secondary rate limit", () =>
    Effect.gen(function*() {
      // The waits themselves are tested under TestClock in HttpRequester's tests; here the policy retries at once
      // (GitHub's wait is a floor under it: the limit says retry-after 0).
      const { github, sim } = yield* connect({}, { retry: Schedule.recurs(3) })
      yield* sim.fault("GET /app", [Fault.status(502), Fault.secondaryRateLimit({ retryAfter: 0 })])
      const app = yield* github.getApp()
      assert.strictEqual(app.id, sim.app.id)
      assert.strictEqual(yield* sim.count("GET /app"), 3)
    }))

  it.effect("users swap Integration with Layer.succeed in their own tests", () => {
    const installation = Installation.Installation.make({
      id: 42,
      account: null,
      app_id: 1,
      app_slug: "my-app",
      target_id: 7,
      target_type: "Organization",
      repository_selection: "all",
      permissions: {},
      events: [],
      access_tokens_url: "https://api.github.com/app/installations/42/access_tokens",
      repositories_url: "https://api.github.com/installation/repositories",
      html_url: "https://github.com/organizations/acme/settings/installations/42",
      created_at: new Date(0),
      updated_at: new Date(0),
      single_file_name: null,
      suspended_by: null,
      suspended_at: null
    })
    const fake = Layer.succeed(
      Integration.Integration,
      Integration.Integration.of({
        getOrgInstallation: (org: string) =>
          org === "acme" ? Effect.succeed(installation) : Effect.die(`unexpected org ${org}`)
      } as Partial<Integration.Service> as Integration.Service)
    )
    const userCode = Effect.flatMap(Integration.Integration, (github) => github.getOrgInstallation("acme"))
    return Effect.map(Effect.provide(userCode, fake), (found) => assert.strictEqual(found.id, 42))
  })

  it.effect("closing the scope closes the client", () =>
    Effect.gen(function*() {
      const outer = yield* Scope.make()
      const { github } = yield* Scope.extend(connect(), outer)
      yield* github.getApp()
      yield* Scope.close(outer, Exit.void)
      // The transport's pool is destroyed with the scope: a request now fails instead of hanging.
      const after = yield* Effect.exit(github.getApp())
      assert.isTrue(Exit.isFailure(after))
    }))

  it.scopedLive("a Client ID works as the issuer", () =>
    Effect.gen(function*() {
      const clientId = "Iv23liEffectGithub01"
      const { github, sim } = yield* connect({ clientId }, { appId: clientId })
      const app = yield* github.getApp()
      assert.strictEqual(app.id, sim.app.id)
      const jwt = yield* github.createJwt()
      const claims = JSON.parse(Buffer.from(Redacted.value(jwt).split(".")[1]!, "base64url").toString())
      assert.strictEqual(claims.iss, clientId)
    }))
})
